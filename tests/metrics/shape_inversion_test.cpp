#include "metrics/shape_inversion.h"

#include <doctest/doctest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "model/draws.h"

using namespace sg;

namespace {

model::GeneratorConfig tiny_config(bool shading) {
  model::GeneratorConfig c;
  c.z_dim = 8;
  c.hidden_dim = 16;
  c.map_hidden_dim = 16;
  c.shading = shading;
  c.light_condition = shading;
  c.surf_track = false;
  return c;
}

model::RenderOptions tiny_render() {
  model::RenderOptions o;
  o.img_size = 8;
  o.num_steps = 8;
  o.hierarchical_sample = true;
  o.nerf_noise = 0;
  return o;
}

}  // namespace

TEST_CASE("inversion fits a tiny generator image under the known pose and light, weights untouched") {
  torch::manual_seed(3);
  model::Generator g(tiny_config(true));
  g->eval();
  const model::RenderOptions opt = tiny_render();
    const at::Tensor z_true = torch::randn({2, 8}) * 0.8;
  const at::Tensor pose = torch::tensor({{1.50f, 1.62f}, {1.66f, 1.45f}});
  const at::Tensor light = torch::tensor({{-0.1f, 0.3f, 0.2f, -0.1f}, {0.0f, 0.2f, -0.3f, 0.1f}});
  at::Tensor target;
  {
    model::Draws d = model::seeded_draws(11);
    target = g->forward(z_true, light, opt, d, pose).rgb.detach();
  }
  metrics::InversionOptions inv;
  inv.steps = 100;
  inv.lr = 0.01;
  // Started near the known latent. NOTE: recovery of z* itself is NOT achieved yet on a random
  // SIREN (measured: loss 0.070 -> 0.039 but |z - z*| 0.75 -> 0.83; from z = 0, 1.27 -> 1.38):
  // its image is rugged in z (frequencies 15 f + 30). Only the fit is asserted until that is
  // understood.
  const at::Tensor offset = torch::randn({2, 8}) * 0.15;
  inv.init = z_true + offset;
  inv.seed = 11;  // the target's sample positions: what is left to find is z alone
  const metrics::InversionResult r = metrics::invert_generator(*g, target, pose, light, opt, inv);
  REQUIRE(r.loss.size() == 100);
  CHECK(r.loss.back() < 0.75 * r.loss.front());
  const double start = offset.norm().item<double>();
  const double end = (r.z - z_true).norm().item<double>();
  MESSAGE("loss ", r.loss.front(), " -> ", r.loss.back(), ", |z - z*| ", start, " -> ", end);
  // Depth and unit normals come back for every pixel, and the weights were left untouched.
  CHECK(r.depth.sizes().vec() == std::vector<int64_t>{2, 8, 8});
  CHECK(r.normal.sizes().vec() == std::vector<int64_t>{2, 8, 8, 3});
  CHECK((r.normal.norm(2, -1) - 1).abs().max().item<double>() < 1e-3);
  for (const auto& p : g->parameters()) CHECK(p.requires_grad());
}

TEST_CASE("inversion of a pi-GAN generator (no shading) still returns normals") {
  torch::manual_seed(4);
  model::Generator g(tiny_config(false));
  const model::RenderOptions opt = tiny_render();
  const at::Tensor target = torch::zeros({1, 3, 8, 8});
  metrics::InversionOptions inv;
  inv.steps = 3;
  const metrics::InversionResult r =
      metrics::invert_generator(*g, target, torch::tensor({{1.57f, 1.57f}}), at::Tensor(), opt, inv);
  CHECK(r.normal.defined());
  CHECK(r.normal.sizes().vec() == std::vector<int64_t>{1, 8, 8, 3});
  CHECK_THROWS_AS(metrics::invert_generator(*g, torch::zeros({1, 3, 4, 4}), torch::tensor({{1.57f, 1.57f}}),
                                            at::Tensor(), opt, inv),
                  sg::StageError);
}
