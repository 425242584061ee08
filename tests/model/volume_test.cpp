#include "model/volume.h"

#include <doctest/doctest.h>

#include <cmath>

using namespace sg::model;

namespace {

PointOutputs points(const at::Tensor& sigma, const at::Tensor& rgb) {
  PointOutputs p;
  p.sigma = sigma;
  p.rgb = rgb;
  return p;
}

}  // namespace

TEST_CASE("integration of a constant-density slab matches its transmittance") {
  const int64_t K = 8;
  const double s = 3.0, dt = 0.05;
  at::Tensor z = (0.8 + dt * at::arange(K, at::kDouble)).view({1, 1, K, 1});
  at::Tensor sigma = at::full({1, 1, K, 1}, s, at::kDouble);
  at::Tensor rgb = at::rand({1, 1, K, 3}, at::kDouble);
  Draws d;
  Integrated r = integrate(points(sigma, rgb), z, {}, d);
  for (int64_t i = 0; i < K; ++i) {
    // w_i = (1 - e^{-s dt}) e^{-i s dt}, the last sample (delta 1e10) takes the rest e^{-(K-1) s dt}.
    const double expect = i < K - 1 ? (1 - std::exp(-s * dt)) * std::exp(-i * s * dt)
                                    : std::exp(-(K - 1) * s * dt);
    CAPTURE(i);
    CHECK(r.weights[0][0][i][0].item<double>() == doctest::Approx(expect).epsilon(1e-6));
  }
  CHECK(r.weights.sum().item<double>() == doctest::Approx(1.0).epsilon(1e-6));
}

TEST_CASE("a single opaque sample takes all the weight") {
  const int64_t K = 6;
  at::Tensor z = at::linspace(0.88, 1.12, K, at::kDouble).view({1, 1, K, 1});
  at::Tensor sigma = at::zeros({1, 1, K, 1}, at::kDouble);
  sigma[0][0][2][0] = 1e6;
  at::Tensor rgb = at::rand({1, 1, K, 3}, at::kDouble);
  at::Tensor nrm = at::randn({1, 1, K, 3}, at::kDouble);
  PointOutputs p = points(sigma, rgb);
  p.normal = nrm;
  Draws d;
  Integrated r = integrate(p, z, {}, d);
  CHECK(r.weights[0][0][2][0].item<double>() == doctest::Approx(1.0));
  CHECK(at::allclose(r.rgb[0][0], rgb[0][0][2]));
  CHECK(r.depth.item<double>() == doctest::Approx(z[0][0][2][0].item<double>() / (1 + 1e-5)));
  CHECK(at::allclose(r.normal[0][0], nrm[0][0][2] / nrm[0][0][2].norm()));
  // depth = t / (1 + 1e-5), so the spread is that offset over sqrt((W + 1e-5)(K - 1)/K).
  const double t2 = z[0][0][2][0].item<double>();
  CHECK(r.depth_std.item<double>() ==
        doctest::Approx((t2 - t2 / (1 + 1e-5)) / std::sqrt((1 + 1e-5) * (K - 1.0) / K)).epsilon(1e-3));

  // Empty space: white_back fills the rest with white; last_back puts it on the last sample.
  at::Tensor empty = at::zeros({1, 1, K, 1}, at::kDouble);
  IntegrateOptions wb;
  wb.white_back = true;
  CHECK(at::allclose(integrate(points(empty, rgb), z, wb, d).rgb, at::ones({1, 1, 3}, at::kDouble)));
  IntegrateOptions lb;
  lb.last_back = true;
  Integrated last = integrate(points(empty, rgb), z, lb, d);
  CHECK(last.weights[0][0][K - 1][0].item<double>() == doctest::Approx(1.0));
  // softplus clamps: even zero density absorbs a little.
  IntegrateOptions sp;
  sp.clamp_mode = ClampMode::softplus;
  CHECK(integrate(points(empty, rgb), z, sp, d).weights[0][0][0][0].item<double>() > 0);
}

TEST_CASE("density noise comes from the draws, scaled by noise_std") {
  at::Tensor z = at::linspace(0.9, 1.1, 4).view({1, 1, 4, 1});
  at::Tensor sigma = at::zeros({1, 1, 4, 1});
  Draws d;
  d.push(Draw::nerf_noise, at::full({1, 1, 4, 1}, 2.0));
  IntegrateOptions o;
  o.noise_std = 0.5;  // relu(0 + 2 * 0.5) = 1 everywhere
  Integrated r = integrate(points(sigma, at::zeros({1, 1, 4, 3})), z, o, d);
  const double dt = (1.1 - 0.9) / 3;
  CHECK(r.weights[0][0][0][0].item<double>() == doctest::Approx(1 - std::exp(-dt)).epsilon(1e-5));
}

TEST_CASE("sample_pdf follows a piecewise-constant pdf") {
  // Bins [0,1], [1,2], [2,3] with weights 1 : 0 : 3.
  at::Tensor bins = at::tensor({0.0, 1.0, 2.0, 3.0}, at::kDouble).view({1, 4});
  at::Tensor w = at::tensor({1.0, 0.0, 3.0}, at::kDouble).view({1, 3});
  Draws d;
  const int64_t n = 4001;
  at::Tensor s = sample_pdf(bins, w, n, true, d);
  const double f0 = (s < 1).sum().item<double>() / n;
  const double f1 = ((s >= 1) & (s < 2)).sum().item<double>() / n;
  const double f2 = (s >= 2).sum().item<double>() / n;
  CHECK(f0 == doctest::Approx(0.25).epsilon(0.01));
  CHECK(f1 < 1e-3);
  CHECK(f2 == doctest::Approx(0.75).epsilon(0.01));
  // Within a bin the samples are uniform: the inverse cdf is linear there.
  CHECK(s[0][n / 8].item<double>() == doctest::Approx(0.5).epsilon(1e-3));
  CHECK(s[0][n - 1].item<double>() == doctest::Approx(3.0));
  CHECK(s[0][0].item<double>() == doctest::Approx(0.0));
  // Monotone in u.
  CHECK((s.slice(1, 1) >= s.slice(1, 0, -1)).all().item<bool>());

  // Random mode takes its uniforms from the draws.
  d.push(Draw::pdf_uniform, at::tensor({0.125, 0.625}, at::kDouble).view({1, 2}));
  at::Tensor r = sample_pdf(bins, w, 2, false, d);
  CHECK(r[0][0].item<double>() == doctest::Approx(0.5).epsilon(1e-3));
  CHECK(r[0][1].item<double>() == doctest::Approx(2.0 + 0.375 / 0.75).epsilon(1e-3));
}
