#pragma once
// The preview a person looks at during training (spec §6.8, reduced): the EMA generator on
// fixed latents and lights from a fixed camera, as one PNG grid with a row each of rgb,
// albedo, shading and depth (min-max normalised), one column per latent, the row names in a
// label column on the left and the step in a title line above (data/raster_text.h).
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

// PNG bytes. `opt` is the training metadata of the current step; the camera is fixed at the
// mean pose and img_size replaced by `size`. `step` (the iterations the weights have seen) goes
// into the title, which is shortened or left out when the grid is too narrow for it.
std::string sample_grid_png(model::Generator& G, const SampleInputs& in, model::RenderOptions opt, int64_t size,
                            int64_t step);

}  // namespace sg::train
