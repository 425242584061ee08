#include "metrics/flat_plane.h"

#include <ATen/ATen.h>
#include <doctest/doctest.h>

#include <cmath>

#include "core/error.h"
#include "metrics/shape_accuracy.h"
#include "model/camera.h"

using namespace sg::metrics;

namespace {

constexpr double kPi = 3.14159265358979323846;

// A (1, 1, P, 3) normal map of unit normals tilted by `degrees` about the y axis from +z.
at::Tensor tilted(const std::vector<double>& degrees) {
  std::vector<double> v;
  for (double a : degrees) {
    const double r = a * kPi / 180;
    v.insert(v.end(), {std::sin(r), 0.0, std::cos(r)});
  }
  return at::tensor(v, at::kDouble).view({1, 1, static_cast<int64_t>(degrees.size()), 3});
}

// The depth map (1, S, S) along the unit rays of the plane n . x = h in camera space.
at::Tensor plane_depth(at::Tensor n, double h, int64_t S, double fov) {
  const at::Tensor d = sg::model::pixel_directions(S, fov).to(at::kDouble);
  n = n / n.norm();
  return (h / at::matmul(d, n)).view({1, S, S});
}

}  // namespace

TEST_CASE("best_plane_angle: a plane's own normals need no angle, the best plane is the median, not the mean") {
  const at::Tensor one = tilted({10, 10, 10, 10});
  CHECK(best_plane_angle(one, at::ones({1, 1, 4})).item<double>() == doctest::Approx(0).epsilon(1e-6));
  // Normals at +30, +30 and -30 degrees on one great circle: the mean angle is least at the
  // median direction (+30: (0 + 0 + 60) / 3 = 20 degrees). The normalised mean (+10 degrees)
  // would give (20 + 20 + 40) / 3 = 26.7.
  const double got = best_plane_angle(tilted({30, 30, -30}), at::ones({1, 1, 3})).item<double>();
  CHECK(got == doctest::Approx(20).epsilon(1e-4));
  // The mask decides which normals count: without the -30 one, a plane fits exactly.
  at::Tensor m = at::ones({1, 1, 3});
  m[0][0][2] = 0;
  CHECK(best_plane_angle(tilted({30, 30, -30}), m).item<double>() == doctest::Approx(0).epsilon(1e-6));
}

TEST_CASE("best_plane_angle is no worse than any direction a brute-force search finds") {
  at::manual_seed(7);
  // A bumpy hemisphere of normals around +z: 64 random unit normals with positive z.
  at::Tensor n = at::randn({1, 8, 8, 3}, at::kDouble);
  n.select(3, 2).abs_().add_(0.5);
  n = n / n.norm(2, -1, true);
  const at::Tensor mask = at::ones({1, 8, 8});
  const double got = best_plane_angle(n, mask).item<double>();
  double brute = 1e9;
  const at::Tensor t = n.view({-1, 3});
  for (int i = 0; i <= 90; ++i)
    for (int j = 0; j < 360; j += 2) {
      const double th = i * kPi / 180, ph = j * kPi / 180;
      const at::Tensor c = at::tensor({std::sin(th) * std::cos(ph), std::sin(th) * std::sin(ph), std::cos(th)}, at::kDouble);
      brute = std::min(brute, (at::matmul(t, c).clamp(-1, 1).acos().mean() * (180 / kPi)).item<double>());
    }
  MESSAGE("best plane " << got << " deg, brute-force grid " << brute << " deg");
  CHECK(got <= brute + 1e-6);
  CHECK(got > brute - 0.5);  // a 1-degree grid is within half a degree of the optimum here
  CHECK_THROWS_AS(best_plane_angle(n, at::zeros({1, 8, 8})), sg::FormatError);
  CHECK_THROWS_AS(best_plane_angle(n, at::ones({1, 4, 4})), sg::FormatError);
}

TEST_CASE("plane_fit_depth_error: zero for a tilted plane, positive for a sphere") {
  const int64_t S = 16;
  const double fov = 12;
  const at::Tensor mask = at::ones({1, S, S});
  const at::Tensor plane = plane_depth(at::tensor({0.3, -0.2, 1.0}, at::kDouble), -1.0, S, fov);
  CHECK(plane_fit_depth_error(plane, mask, fov).item<double>() < 1e-9);
  // A sphere of radius 0.1 at distance 1 in front of the camera: its visible cap is not flat.
  const at::Tensor d = sg::model::pixel_directions(S, fov).to(at::kDouble);  // (S*S, 3)
  const at::Tensor c = at::tensor({0.0, 0.0, -1.0}, at::kDouble);
  const at::Tensor b = at::matmul(d, c);                                      // d . c
  const at::Tensor disc = b * b - (c.dot(c) - 0.01);
  const at::Tensor hit = disc > 0;
  const at::Tensor t = at::where(hit, b - disc.clamp_min(0).sqrt(), at::ones_like(b)).view({1, S, S});
  const at::Tensor on_sphere = hit.view({1, S, S}).to(at::kDouble);
  REQUIRE(on_sphere.sum().item<double>() > 20);
  const double sphere = plane_fit_depth_error(t, on_sphere, fov).item<double>();
  MESSAGE("sphere cap vs its best plane: SIDE " << sphere);
  CHECK(sphere > 1e-3);
  // The fitted plane is at least as good as the fronto-parallel one (a constant depth).
  CHECK(sphere <= scale_invariant_depth_error(at::ones_like(t), t, on_sphere).item<double>() + 1e-12);
}
