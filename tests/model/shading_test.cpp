#include "model/shading.h"

#include "core/error.h"

#include <doctest/doctest.h>

#include <cmath>

using namespace sg::model;

namespace {
double at0(const at::Tensor& t) { return t.flatten()[0].item<double>(); }
}  // namespace

TEST_CASE("lambertian shading on hand-made inputs") {
  at::Tensor albedo = at::full({1, 1, 3}, 0.5);
  at::Tensor up = at::tensor({0.f, 0.f, 1.f}).view({1, 1, 3});
  // a = 0.2, d = 0.4: k_a = 0.6, k_d = 0.7; light straight along +z.
  at::Tensor light = at::tensor({0.2f, 0.4f, 0.f, 0.f}).view({1, 4});
  Shaded s = lambertian(albedo, up, light, 1.0);
  CHECK(at0(s.shading) == doctest::Approx(1.3));
  CHECK(at0(s.rgb) == doctest::Approx(0.65));

  // Warm-up blend l_ratio 0.5: 0.5 * 1.3 + 0.5.
  CHECK(at0(lambertian(albedo, up, light, 0.5).shading) == doctest::Approx(1.15));
  // l_ratio 0: exactly 1 with or without normals.
  CHECK(at0(lambertian(albedo, up, light, 0.0).shading) == 1.0);
  CHECK(at0(lambertian(albedo, at::Tensor(), light, 0.0).shading) == 1.0);
  CHECK_THROWS(lambertian(albedo, at::Tensor(), light, 1.0));

  // Facing away: diffuse clamps to 0; a NaN normal counts as fully lit.
  CHECK(at0(lambertian(albedo, -up, light, 1.0).shading) == doctest::Approx(0.6));
  at::Tensor nan = at::full({1, 1, 3}, std::nan(""));
  CHECK(at0(lambertian(albedo, nan, light, 1.0).shading) == doctest::Approx(1.3));

  // Oblique light (dx, dy) = (1, 0): L = (1, 0, 1)/sqrt 2, in world space.
  at::Tensor side = at::tensor({0.2f, 0.4f, 1.f, 0.f}).view({1, 4});
  CHECK(at0(lambertian(albedo, up, side, 1.0).shading) ==
        doctest::Approx(0.6 + 0.7 / std::sqrt(2.0)).epsilon(1e-6));
  // The result is clamped to [0, 1].
  at::Tensor bright = at::full({1, 1, 3}, 0.9);
  CHECK(at0(lambertian(bright, up, light, 1.0).rgb) == 1.0);
}

TEST_CASE("light prior samples mean + L eps through the Cholesky factor") {
  at::Tensor mean = at::tensor({0.1f, 0.2f, 0.3f, 0.4f});
  at::Tensor cov = at::diag(at::tensor({4.f, 1.f, 0.25f, 1.f}));
  cov[1][0] = 0.5;
  cov[0][1] = 0.5;
  LightPrior p = make_light_prior(mean, cov, "test");
  CHECK(at::allclose(at::matmul(p.scale_tril, p.scale_tril.t()), cov));
  Draws d;
  d.push(Draw::light, at::tensor({1.f, 1.f, 1.f, 1.f, 0.f, 0.f, 0.f, 0.f}).view({2, 4}));
  at::Tensor l = sample_light(p, 2, d);
  // L = [[2,0,..],[0.25, sqrt(0.9375),..],[..,0.5,..],[..,1]]
  CHECK(l[0][0].item<double>() == doctest::Approx(2.1));
  CHECK(l[0][1].item<double>() == doctest::Approx(0.2 + 0.25 + std::sqrt(0.9375)));
  CHECK(l[0][2].item<double>() == doctest::Approx(0.8));
  CHECK(at::equal(l[1], mean));

  // Empirical covariance of many draws.
  Draws r = seeded_draws(7);
  at::Tensor many = sample_light(p, 20000, r);
  at::Tensor c = at::cov(many.t());
  CHECK(at::allclose(c, cov, 0, 0.08));

  CHECK_THROWS_AS(make_light_prior(at::zeros({3}), cov, "x.pth"), sg::FormatError);
  CHECK_THROWS_AS(make_light_prior(mean, -cov, "x.pth"), sg::FormatError);
}
