#pragma once
// The smallest generator the tests that need "some generator" use: 8-d latent, 16-wide SIREN
// and mapping network, no surface net, seeded weights, in eval mode. Small enough that a
// forward at 16 px takes milliseconds; deterministic, so outputs can be compared across runs.
#include <torch/torch.h>

#include "model/generator.h"

namespace sg::test {

// `c` picks the variant (ShadeGAN by default, GeneratorConfig::pigan() for pi-GAN); the sizes
// above replace its own.
inline model::Generator tiny_generator(model::GeneratorConfig c = {}) {
  torch::manual_seed(7);
  c.z_dim = 8;
  c.hidden_dim = 16;
  c.map_hidden_dim = 16;
  c.surf_track = false;
  model::Generator g(c);
  g->eval();
  return g;
}

}  // namespace sg::test
