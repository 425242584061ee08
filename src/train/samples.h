#pragma once
// The preview a person looks at during training (spec §6.8, reduced): the EMA generator on
// fixed latents and lights from a fixed camera, as one PNG grid with a row each of rgb,
// albedo, shading, depth (min-max normalised) and opacity, one column per latent, the row names
// in a label column on the left and the step in a title line above (data/raster_text.h); and
// the numbers that say whether the generator draws objects yet (issue 20), measured on the same
// render: the mean ray opacity inside and outside the data's silhouette.
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

#include "model/generator.h"
#include "model/shading.h"

namespace sg::train {

struct SampleInputs {
  at::Tensor z, light;  // (n, z_dim), (n, 4)
  uint64_t seed = 0;    // the preview's own random stream (never the training one)
};

SampleInputs fixed_sample_inputs(int64_t n, int64_t z_dim, const model::LightPrior& prior, uint64_t seed);

// Opacity = a ray's sum of compositing weights (1 - the light that passes it): 0 for empty
// space, 1 where the ray ends on matter. Means over the grid's rays; NaN where not measured
// (no silhouette given, or a region with no pixel).
struct SampleStats {
  double opacity_mean = 0;
  double opacity_in = NAN;   // over the pixels inside the silhouette's core (mean mask >= 0.9)
  double opacity_out = NAN;  // over the pixels surely outside it (mean mask <= 0.1)
};

struct SampleGrid {
  std::string png;
  SampleStats stats;
};

// `opt` is the training metadata of the current step; the camera is fixed at the mean pose and
// img_size replaced by `size`. `step` (the iterations the weights have seen) goes into the title,
// which is shortened or left out when the grid is too narrow for it. `silhouette` (size, size)
// in [0, 1] is the fraction of the data's images covering each pixel (data_silhouette.h);
// undefined: opacity_in/out stay NaN.
SampleGrid sample_grid(model::Generator& G, const SampleInputs& in, model::RenderOptions opt, int64_t size,
                       int64_t step, const at::Tensor& silhouette = {});

// The silhouette regions sample_grid measures in: a pixel is inside when at least 90 % of the
// data's images cover it, outside when at most 10 % do. The band between, where the objects'
// sizes and poses differ, is left out: there no single object is right or wrong.
constexpr double kInsideCover = 0.9, kOutsideCover = 0.1;

// The largest raw density the SIREN's density head can output: sum |w| + |b| of final_layer,
// whose inputs are sines in [-1, 1]. With Adam every weight moves about lr per step, so this
// grows at most (width + 1) x lr per step: a scale still near its initial value means the
// generator cannot yet make anything opaque (issue 20), whatever the losses say.
double density_scale(model::Generator& G);

}  // namespace sg::train
