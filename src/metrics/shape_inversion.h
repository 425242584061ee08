#pragma once
// Generator inversion for shape accuracy (datasets/README.md, "Shape accuracy"): for images
// whose pose and light are known (the synthetic set's ground truth), find the latent z whose
// rendering under that pose and light matches the image, then render its depth and normals.
// The generator's weights stay fixed; only z moves: Adam on the mean squared RGB error of the
// training forward (spec §2.7, untruncated codes, so psi plays no part), starting at z = 0 (the
// mode of the latent prior), with the renderer's random sample positions drawn from `seed` and
// kept for every step (a fixed objective). The final depth and normals come from staged_forward with the
// codes of the optimised z and normals forced on (pi-GAN has no shading, so it would not
// compute them otherwise). Which normals shade the Adam steps' forward is `normals`
// (inversion_normals.h); the final render is always the generator's own, so the paths differ
// only in the z they find.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "metrics/inversion_normals.h"
#include "model/generator.h"
#include "model/options.h"

namespace sg::metrics {

struct InversionOptions {
  int64_t steps = 200;
  double lr = 0.02;
  uint64_t seed = 0;  // the renderer's random stream (stratified perturbation, fine sampling)
  at::Tensor init;    // (B, z_dim) starting latents; undefined: z = 0
  InversionNormals normals;  // what shades the steps' forward (default: as the generator trained)
  std::function<void()> on_step;  // called after every Adam step (progress); may be empty
};

struct InversionResult {
  at::Tensor z;       // (B, z_dim) optimised latents
  at::Tensor rgb;     // (B, 3, S, S) in [-1, 1], final render
  at::Tensor depth;   // (B, S, S) distance along the unit ray
  at::Tensor normal;  // (B, S, S, 3) unit, world space
  std::vector<double> loss;  // per step, the batch's mean squared error
};

// target (B, 3, S, S) in [-1, 1] with S = opt.img_size; pose (B, 2) = (pitch, yaw) in radians;
// light (B, 4) raw (a, d, dx, dy) (ignored without shading). `opt` is used as given except
// nerf_noise = 0 and l_ratio = 1 (full shading, as a finished model renders).
InversionResult invert_generator(model::GeneratorImpl& generator, const at::Tensor& target,
                                 const at::Tensor& pose, const at::Tensor& light,
                                 model::RenderOptions opt, const InversionOptions& options);

}  // namespace sg::metrics
