#include "model/camera.h"

#include <doctest/doctest.h>

#include <cmath>

#include "core/error.h"

using namespace sg::model;

namespace {
constexpr double kHalfPi = 1.5707963267948966;
double v(const at::Tensor& t) { return t.item<double>(); }
}  // namespace

TEST_CASE("camera modes draw yaw then pitch with the reference's formulas") {
  CameraOptions c;
  c.h_stddev = 0.3;
  c.v_stddev = 0.155;

  c.dist = CameraDist::fixed;
  Draws none;
  CameraSample s = sample_camera(2, c, none, {});
  CHECK(at::allclose(s.origin, at::tensor({0.f, 0.f, 1.f}).expand({2, 3}), 0, 1e-7));

  c.dist = CameraDist::gaussian;
  Draws d;
  d.push(Draw::camera, at::full({1, 1}, 1.0));   // yaw noise
  d.push(Draw::camera, at::full({1, 1}, -2.0));  // pitch noise
  s = sample_camera(1, c, d, {});
  CHECK(v(s.yaw) == doctest::Approx(kHalfPi + 0.3));
  CHECK(v(s.pitch) == doctest::Approx(kHalfPi - 0.31));

  c.dist = CameraDist::uniform;
  d.push(Draw::camera, at::full({1, 1}, 1.0));
  d.push(Draw::camera, at::full({1, 1}, 0.25));
  s = sample_camera(1, c, d, {});
  CHECK(v(s.yaw) == doctest::Approx(kHalfPi + 0.3));
  CHECK(v(s.pitch) == doctest::Approx(kHalfPi - 0.5 * 0.155));

  c.dist = CameraDist::hybrid;  // coin < 1/2: uniform with doubled ranges
  d.push(Draw::hybrid_coin, at::full({1}, 0.1, at::kDouble));
  d.push(Draw::camera, at::full({1, 1}, 1.0));
  d.push(Draw::camera, at::full({1, 1}, 0.0));
  s = sample_camera(1, c, d, {});
  CHECK(v(s.yaw) == doctest::Approx(kHalfPi + 0.6));
  CHECK(v(s.pitch) == doctest::Approx(kHalfPi - 0.31));
  d.push(Draw::hybrid_coin, at::full({1}, 0.9, at::kDouble));  // else gaussian
  d.push(Draw::camera, at::full({1, 1}, 1.0));
  d.push(Draw::camera, at::full({1, 1}, 1.0));
  s = sample_camera(1, c, d, {});
  CHECK(v(s.yaw) == doctest::Approx(kHalfPi + 0.3));

  c.dist = CameraDist::truncated_gaussian;  // first of 4 draws inside (-2, 2); else the first
  d.push(Draw::camera, at::tensor({3.f, -2.5f, 1.5f, 0.5f}).view({1, 1, 4}));
  d.push(Draw::camera, at::tensor({3.f, 2.f, -2.f, 9.f}).view({1, 1, 4}));
  s = sample_camera(1, c, d, {});
  CHECK(v(s.yaw) == doctest::Approx(kHalfPi + 1.5 * 0.3));
  CHECK(v(s.pitch) == doctest::Approx(kHalfPi + 3 * 0.155));

  c.dist = CameraDist::spherical_uniform;
  d.push(Draw::camera, at::full({1, 1}, 0.5));
  d.push(Draw::camera, at::full({1, 1}, 1.0));
  s = sample_camera(1, c, d, {});
  CHECK(v(s.yaw) == doctest::Approx(kHalfPi));
  const double vv = 0.5 + 0.155 / M_PI;
  CHECK(v(s.pitch) == doctest::Approx(std::acos(1 - 2 * vv)).epsilon(1e-6));

  // Pitch is clamped away from the poles.
  c.dist = CameraDist::gaussian;
  d.push(Draw::camera, at::zeros({1, 1}));
  d.push(Draw::camera, at::full({1, 1}, -100.0));
  s = sample_camera(1, c, d, {});
  CHECK(v(s.pitch) == doctest::Approx(1e-5));

  // A fixed draw of the wrong shape is an error, not a silent broadcast.
  d.push(Draw::camera, at::zeros({2, 1}));
  CHECK_THROWS_AS(sample_camera(1, c, d, {}), sg::StageError);

  CHECK(camera_dist_from_name("normal") == CameraDist::gaussian);
  CHECK_THROWS_WITH_AS(camera_dist_from_name("gausian"),
                       doctest::Contains("did you mean 'gaussian'"), sg::ConfigError);
}

TEST_CASE("camera origin, cam2world and pixel rays") {
  // Larger yaw moves the camera toward -x, smaller pitch moves it up.
  at::Tensor o = pose_to_origin(at::full({1, 1}, kHalfPi), at::full({1, 1}, kHalfPi + 0.1));
  CHECK(v(o[0][0]) < 0);
  o = pose_to_origin(at::full({1, 1}, kHalfPi - 0.1), at::full({1, 1}, kHalfPi));
  CHECK(v(o[0][1]) > 0);

  // The canonical camera: rotation identity, translation (0, 0, 1).
  at::Tensor origin = at::tensor({0.f, 0.f, 1.f}).view({1, 3});
  at::Tensor m = cam2world_matrix(-origin, origin);
  at::Tensor expect = at::eye(4);
  expect[2][3] = 1;
  CHECK(at::allclose(m[0], expect));
  // Any camera: orthonormal rotation whose -z axis looks at the origin.
  at::Tensor o2 = pose_to_origin(at::full({1, 1}, 1.2), at::full({1, 1}, 2.0));
  at::Tensor m2 = cam2world_matrix(-o2, o2)[0];
  at::Tensor r = m2.slice(0, 0, 3).slice(1, 0, 3);
  CHECK(at::allclose(at::matmul(r, r.t()), at::eye(3), 0, 1e-6));
  CHECK(at::allclose(at::matmul(r, at::tensor({0.f, 0.f, -1.f})), -o2[0], 0, 1e-6));

  // Pixel directions: top-left first; the outer pixel centres at +-1 over z = -1/tan(6 deg).
  at::Tensor d = pixel_directions(3, 12);
  const double z = -1 / std::tan(M_PI * 12 / 360);
  const double n = std::sqrt(2 + z * z);
  CHECK(v(d[0][0]) == doctest::Approx(-1 / n));
  CHECK(v(d[0][1]) == doctest::Approx(1 / n));
  CHECK(v(d[4][2]) == doctest::Approx(-1.0));
  CHECK(v(d[8][0]) == doctest::Approx(1 / n));
  CHECK(v(d[8][1]) == doctest::Approx(-1 / n));

  Rays rays = initial_rays(2, 3, 3, 12, 0.88, 1.12, {});
  CHECK(rays.points.sizes() == at::IntArrayRef({2, 9, 3, 3}));
  CHECK(v(rays.z_vals[1][5][2][0]) == doctest::Approx(1.12));
  CHECK(at::allclose(rays.points[0][4][1], at::tensor({0.f, 0.f, -1.f})));

  // Around a depth map: depth + (delta / 2) linspace(-1, 1, N).
  Rays band = rays_from_depth(3, at::full({1, 2, 2}, 1.0), 0.1, 12);
  CHECK(at::allclose(band.z_vals[0][3].flatten(), at::tensor({0.95f, 1.0f, 1.05f})));
}

TEST_CASE("perturbation moves samples within their interval, the world transform is rigid") {
  Rays rays = initial_rays(1, 4, 2, 12, 0.8, 1.1, {});
  at::Tensor origin = pose_to_origin(at::full({1, 1}, 1.4), at::full({1, 1}, 1.9));
  Draws d;
  d.push(Draw::perturbation, at::ones({1, 4, 4, 1}));  // +half an interval
  WorldRays w = transform_sampled_points(rays, origin, d);
  CHECK(at::allclose(w.z_vals - rays.z_vals, at::full({1, 4, 4, 1}, 0.05), 0, 1e-6));
  // World points lie on origin + t * world direction.
  at::Tensor recon = w.origins.unsqueeze(2) + w.dirs.unsqueeze(2) * w.z_vals;
  CHECK(at::allclose(recon, w.points, 0, 1e-6));
  CHECK(at::allclose(w.dirs.norm(2, -1), at::ones({1, 4}), 0, 1e-6));
}

TEST_CASE("resize_map: area to shrink, bilinear to enlarge") {
  at::Tensor x = at::arange(16, at::kFloat).view({1, 4, 4});
  at::Tensor small = resize_map(x, 2);
  CHECK(v(small[0][0][0]) == doctest::Approx((0 + 1 + 4 + 5) / 4.0));
  CHECK(resize_map(x, 8).sizes() == at::IntArrayRef({1, 8, 8}));
  CHECK(at::equal(resize_map(x, 4), x));
}
