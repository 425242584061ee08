#include "metrics/shape_inversion.h"

// torch (which brings glog's CHECK) before doctest, so that CHECK here is doctest's.
#include <torch/torch.h>
#include <doctest/doctest.h>

#include <array>
#include <string>

#include "core/error.h"
#include "metrics/shape_accuracy.h"
#include "model/draws.h"
#include "inversion_generator.h"

using namespace sg;
using sg::test::smooth_generator;
using sg::test::tiny_config;
using sg::test::tiny_render;

namespace {

struct Known {
  at::Tensor z, pose, light, rgb, depth, normal, mask;
};

// Two images rendered from known latents under known poses and lights, with their depth and
// normals from the same staged forward the inversion ends with.
Known known_images(model::GeneratorImpl& g, const model::RenderOptions& opt, uint64_t seed) {
  Known k;
  k.z = torch::randn({2, 8}) * 0.8;
  k.pose = torch::tensor({{1.50f, 1.62f}, {1.66f, 1.45f}});
  k.light = torch::tensor({{-0.1f, 0.3f, 0.2f, -0.1f}, {0.0f, 0.2f, -0.3f, 0.1f}});
  model::Draws d = model::seeded_draws(seed);
  k.rgb = g.forward(k.z, k.light, opt, d, k.pose).rgb.detach();
  torch::NoGradGuard ng;
  auto [f, p] = g.siren->mapping_network->forward(k.z);
  model::Draws d2 = model::seeded_draws(seed);
  model::RenderOptions o = opt;
  o.rt_normal = true;
  model::GeneratorOutput t = g.staged_forward_with_codes(f, p, k.light, o, d2, k.pose);
  k.depth = t.depth;
  k.normal = t.normal.permute({0, 2, 3, 1}).contiguous();
  k.mask = t.weights.sum({2, 3}).reshape({2, 8, 8}) > 0.5;  // pixels with a surface
  return k;
}

}  // namespace

TEST_CASE("inversion from near a known latent matches its image, depth and normals, 0 steps do not") {
  model::Generator g = smooth_generator(3);
  const model::RenderOptions opt = tiny_render();
  const Known k = known_images(*g, opt, 11);
  REQUIRE(k.mask.all().item<bool>());
  metrics::InversionOptions inv;
  inv.lr = 0.01;
  inv.seed = 11;  // the target's sample positions: what is left to find is z alone
  const at::Tensor offset = torch::randn({2, 8}) * 0.15;
  inv.init = k.z + offset;

  inv.steps = 0;
  const metrics::InversionResult before = metrics::invert_generator(*g, k.rgb, k.pose, k.light, opt, inv);
  inv.steps = 100;
  const metrics::InversionResult r = metrics::invert_generator(*g, k.rgb, k.pose, k.light, opt, inv);
  REQUIRE(r.loss.size() == 100);

  auto report = [&](const metrics::InversionResult& x, const std::string& what) {
    const double mse = torch::mse_loss(x.rgb, k.rgb).item<double>();
    const double side = metrics::scale_invariant_depth_error(x.depth, k.depth, k.mask).max().item<double>();
    const double mad = metrics::mean_angle_deviation(x.normal, k.normal, k.mask).max().item<double>();
    MESSAGE(what, ": rgb mse ", mse, ", SIDE ", side, ", MAD ", mad, " deg");
    return std::array<double, 3>{mse, side, mad};
  };
  const auto [mse0, side0, mad0] = report(before, "0 steps");
  const auto [mse, side, mad] = report(r, "100 steps");
  const double start = offset.norm().item<double>();
  const double end = (r.z - k.z).norm().item<double>();
  MESSAGE("|z - z*| ", start, " -> ", end);
  // Measured (seed 3, worse image of two): rgb mse 8.3e-3 -> 7.2e-5, MAD 18.5 -> 3.2 deg,
  // SIDE 3.5e-5 -> 8.0e-6 (this generator's depth is nearly flat, so SIDE is small either way).
  CHECK(mse < 5e-4);
  CHECK(mad < 5.0);
  CHECK(side < 1e-3);
  // Without steps the same comparison fails: the test can tell a fit from no fit.
  CHECK(mse0 > 10 * mse);
  CHECK(mad0 > 2 * mad);
  // The latent comes closer to the truth, but only part of the way (measured 0.75 -> 0.60): the
  // image matches while some directions of z stay off, so the image does not pin all of z down.
  CHECK(end < 0.9 * start);
  CHECK(r.depth.sizes().vec() == std::vector<int64_t>{2, 8, 8});
  CHECK((r.normal.norm(2, -1) - 1).abs().max().item<double>() < 1e-3);
  for (const auto& p : g->parameters()) CHECK(p.requires_grad());
}

// Recovering the latent itself needs an image that pins every direction of z down. With a
// 3-d latent seen at 16 px (768 numbers) the Jacobian of the image with respect to z is well
// conditioned (measured singular values 66 .. 6.7 for this seed); with an 8-d latent at 8 px
// (the test above) they run 4.9 .. 0.07, and Adam matches the image long before z settles
// along the weak directions (measured: 0.42 -> 0.18 after 300 steps, MSE already 2e-6).
TEST_CASE("inversion recovers a known latent when the image determines it") {
  torch::manual_seed(3);
  model::Generator g(tiny_config(true, 3));
  g->eval();
  {
    torch::NoGradGuard ng;
    g->siren->mapping_network->network[6]->as<torch::nn::Linear>()->weight.mul_(0.3);
  }
  const model::RenderOptions opt = tiny_render(16);
  const at::Tensor z = torch::randn({1, 3}) * 0.8;
  const at::Tensor pose = torch::tensor({{1.50f, 1.62f}});
  const at::Tensor light = torch::tensor({{-0.1f, 0.3f, 0.2f, -0.1f}});
  auto render = [&](const at::Tensor& zz) {
    torch::NoGradGuard ng;
    model::Draws d = model::seeded_draws(11);
    return g->forward(zz, light, opt, d, pose).rgb;
  };
  const at::Tensor target = render(z);
  // The conditioning that makes z identifiable, by central differences.
  at::Tensor J = torch::zeros({target.numel(), 3});
  for (int i = 0; i < 3; ++i) {
    at::Tensor e = torch::zeros({1, 3});
    e[0][i] = 1e-3;
    J.select(1, i).copy_(((render(z + e) - render(z - e)) / 2e-3).reshape({-1}));
  }
  const at::Tensor sv = std::get<1>(torch::linalg_svd(J, false, c10::nullopt));
  MESSAGE("singular values of d image / d z: ", sv.max().item<double>(), " .. ", sv.min().item<double>());
  REQUIRE(sv.min().item<double>() > 1.0);

  metrics::InversionOptions inv;
  inv.lr = 0.01;
  inv.seed = 11;
  inv.steps = 200;
  const at::Tensor offset = torch::tensor({{0.12f, -0.08f, 0.05f}});
  inv.init = z + offset;
  const metrics::InversionResult r = metrics::invert_generator(*g, target, pose, light, opt, inv);
  const double start = offset.norm().item<double>(), end = (r.z - z).norm().item<double>();
  MESSAGE("|z - z*| ", start, " -> ", end, ", rgb mse ", r.loss.front(), " -> ", r.loss.back());
  CHECK(end < 1e-2 * start);
  CHECK(r.loss.back() < 1e-4 * r.loss.front());
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

TEST_CASE("a generator that shades with its depth map's normals is measured on the density gradient's") {
  // shape_compare's ShadeGAN arm shades with depth-map normals; the shape metric must still see
  // the density gradient, as it does for pi-GAN, or the two arms are measured differently.
  model::Generator g = smooth_generator(3);
  g->cfg.depth_normals = true;
  const model::RenderOptions opt = tiny_render();
  const Known k = known_images(*g, opt, 11);
  metrics::InversionOptions inv;
  inv.seed = 11;
  inv.steps = 0;
  inv.init = k.z;
  const metrics::InversionResult r = metrics::invert_generator(*g, k.rgb, k.pose, k.light, opt, inv);
  CHECK(g->cfg.depth_normals);  // restored
  // The same codes rendered by the same weights shading with the density gradient.
  torch::NoGradGuard ng;
  auto [f, p] = g->siren->mapping_network->forward(k.z);
  model::RenderOptions o = opt;
  o.rt_normal = true;
  g->cfg.depth_normals = false;
  model::Draws d = model::seeded_draws(11);
  const at::Tensor density = g->staged_forward_with_codes(f, p, k.light, o, d, k.pose).normal.permute({0, 2, 3, 1});
  CHECK((r.normal - density).abs().max().item<double>() < 1e-5);
  // known_images rendered them with depth-map normals: that is what the inversion used to return.
  const double apart = metrics::mean_angle_deviation(k.normal, density, k.mask).max().item<double>();
  MESSAGE("depth-map normals vs the density gradient's: ", apart, " deg");
  CHECK(apart > 1.0);
}
