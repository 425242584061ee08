#pragma once
// The tiny generator of the inversion tests (shape_inversion_test, inversion_normals_test):
// width 16, no surface net, 8 px and 8 samples per ray by default. Not tests/lib/tiny_generator.h,
// whose name a header here must not take: "..." includes look in this folder first.
#include <torch/torch.h>

#include <cstdint>

#include "model/generator.h"
#include "model/options.h"

namespace sg::test {

inline model::GeneratorConfig tiny_config(bool shading, int64_t z_dim = 8) {
  model::GeneratorConfig c;
  c.z_dim = z_dim;
  c.hidden_dim = 16;
  c.map_hidden_dim = 16;
  c.shading = shading;
  c.light_condition = shading;
  c.surf_track = false;
  return c;
}

inline model::RenderOptions tiny_render(int64_t size = 8) {
  model::RenderOptions o;
  o.img_size = size;
  o.num_steps = 8;
  o.hierarchical_sample = true;
  o.nerf_noise = 0;
  return o;
}

// A tiny generator whose image is a smooth function of z. At pi-GAN's initialisation it is not:
// the codes enter the SIREN as 15 f + 30 and, shaded by the unit normals of a near-constant
// density, an offset of 0.05 per latent dimension already costs an MSE of 0.05, and the
// inversion (Adam or L-BFGS alike; the gradients agree with finite differences) stalls in the
// nearest local minimum. Scaling the mapping network's last layer by 0.1 (codes closer to the
// mean, as a trained generator's are) makes the fit well posed near the truth.
inline model::Generator smooth_generator(uint64_t seed, bool shading = true) {
  torch::manual_seed(seed);
  model::Generator g(tiny_config(shading));
  g->eval();
  torch::NoGradGuard ng;
  g->siren->mapping_network->network[6]->as<torch::nn::Linear>()->weight.mul_(0.1);
  return g;
}

}  // namespace sg::test
