#include "metrics/shape_accuracy.h"

#include <ATen/ATen.h>
#include <doctest/doctest.h>

#include <cmath>

#include "core/error.h"
#include "data/synth.h"
#include "model/camera.h"

using namespace sg::metrics;

namespace {

// A (1, 2, 2) map from four values, row-major.
at::Tensor map4(double a, double b, double c, double d) {
  return at::tensor({a, b, c, d}, at::kDouble).view({1, 2, 2});
}

}  // namespace

TEST_CASE("scale-invariant depth error of hand-made depth maps") {
  const double e = std::exp(1.0);
  const at::Tensor truth = map4(1, 1, 1, 1);
  // D = log(pred / truth) = 0, 1, 2, 3: mean 1.5, mean squared deviation 1.25.
  const at::Tensor pred = map4(1, e, e * e, e * e * e);
  const at::Tensor all = map4(1, 1, 1, 1);
  CHECK(scale_invariant_depth_error(pred, truth, all)[0].item<double>() ==
        doctest::Approx(std::sqrt(1.25)).epsilon(1e-14));
  // The last pixel masked out (and its depth made invalid, which the mask must hide):
  // D = 0, 1, 2, variance 2/3.
  const at::Tensor three = map4(1, 1, 1, 0);
  const at::Tensor pred_bad = map4(1, e, e * e, -5);
  CHECK(scale_invariant_depth_error(pred_bad, truth, three)[0].item<double>() ==
        doctest::Approx(std::sqrt(2.0 / 3.0)).epsilon(1e-14));
  // Invariant to a global scale of either map, zero for a scaled copy.
  const at::Tensor t2 = map4(2, 3, 5, 7);
  const at::Tensor p2 = map4(2.5, 2, 6, 7.5);
  const double base = scale_invariant_depth_error(p2, t2, all)[0].item<double>();
  CHECK(base > 0.1);
  CHECK(scale_invariant_depth_error(p2 * 17.0, t2, all)[0].item<double>() ==
        doctest::Approx(base).epsilon(1e-12));
  CHECK(scale_invariant_depth_error(t2 * 0.3, t2, all)[0].item<double>() ==
        doctest::Approx(0.0).epsilon(1e-12));
  // Per image: a batch of the two cases above gives both values.
  const at::Tensor batch = scale_invariant_depth_error(at::cat({pred, p2}), at::cat({truth, t2}),
                                                       at::cat({all, all}));
  CHECK(batch.size(0) == 2);
  CHECK(batch[0].item<double>() == doctest::Approx(std::sqrt(1.25)));
  CHECK(batch[1].item<double>() == doctest::Approx(base));
}

TEST_CASE("mean angle deviation of hand-made normal maps") {
  // Pixels: identical (0 deg), perpendicular (90 deg), 45 deg with an unnormalised normal,
  // opposite (180 deg).
  const at::Tensor pred =
      at::tensor({0., 0., 1., 0., 0., 1., 1., 0., 0., 0., 0., 1.}, at::kDouble).view({1, 2, 2, 3});
  const at::Tensor truth =
      at::tensor({0., 0., 1., 0., 1., 0., 3., 3., 0., 0., 0., -2.}, at::kDouble).view({1, 2, 2, 3});
  CHECK(mean_angle_deviation(pred, truth, map4(1, 1, 1, 1))[0].item<double>() ==
        doctest::Approx((0 + 90 + 45 + 180) / 4.0).epsilon(1e-12));
  CHECK(mean_angle_deviation(pred, truth, map4(1, 1, 1, 0))[0].item<double>() ==
        doctest::Approx(45.0).epsilon(1e-12));
  CHECK(mean_angle_deviation(pred, truth, map4(1, 0, 0, 0))[0].item<double>() ==
        doctest::Approx(0.0));
}

TEST_CASE("shape metrics reject empty masks, bad depths and mismatched shapes") {
  const at::Tensor ones = map4(1, 1, 1, 1);
  CHECK_THROWS_AS(scale_invariant_depth_error(ones, ones, map4(0, 0, 0, 0)), sg::FormatError);
  CHECK_THROWS_AS(scale_invariant_depth_error(map4(1, 0, 1, 1), ones, ones), sg::FormatError);
  CHECK_THROWS_AS(scale_invariant_depth_error(ones, ones.view({1, 4, 1}), ones), sg::FormatError);
  const at::Tensor n = at::zeros({1, 2, 2, 3}, at::kDouble);
  CHECK_THROWS_AS(mean_angle_deviation(n, n, ones), sg::FormatError);
}

TEST_CASE("erode_mask drops the silhouette edge and the image border") {
  at::Tensor m = at::zeros({1, 5, 5}, at::kDouble);
  m.slice(1, 1, 4).slice(2, 1, 4).fill_(1);  // a 3x3 block
  const at::Tensor e = erode_mask(m);
  CHECK(e.sum().item<int64_t>() == 1);
  CHECK(e[0][2][2].item<bool>());
  // A full mask loses its one-pixel border: 5x5 -> 3x3.
  CHECK(erode_mask(at::ones({1, 5, 5})).sum().item<int64_t>() == 9);
}

TEST_CASE("normals of a planar depth map are the plane's normal, facing the camera") {
  // The plane n . x = h in camera space (camera at 0 looking down -z): along the unit ray d,
  // depth t = h / (n . d). Finite differences of points on a plane lie in it, so every interior
  // pixel's normal is n up to rounding, whichever way the plane is tilted.
  const int64_t S = 9;
  const double fov = 12;
  const at::Tensor d = sg::model::pixel_directions(S, fov).to(at::kDouble);
  at::Tensor n = at::tensor({0.3, -0.2, 1.0}, at::kDouble);
  n = n / n.norm();
  const double h = -1.0;  // the plane passes one unit in front of the camera, along -z
  const at::Tensor depth = (h / at::matmul(d, n)).view({1, S, S});
  CHECK((depth > 0.9).all().item<bool>());
  const at::Tensor got = normals_from_depth(depth, fov);
  const at::Tensor inner = got[0].slice(0, 1, S - 1).slice(1, 1, S - 1).reshape({-1, 3});
  CHECK(at::allclose(inner, n.expand_as(inner), 0, 1e-6));
  // The border has no central difference: zero, left to the eroded mask.
  CHECK(got[0][0].abs().sum().item<double>() == 0);
  CHECK(got[0].select(1, S - 1).abs().sum().item<double>() == 0);
  CHECK_THROWS_AS(normals_from_depth(at::ones({1, 2, 2}), fov), sg::FormatError);
}

TEST_CASE("normals of a synthetic sample's depth map agree with its true normals") {
  // The synthetic set's camera (data/camera.h) and the renderer's (model/camera.h) are two
  // implementations of spec 4.2-4.3; this ties them: the true world normals, rotated into the
  // camera, must match the normals of the true depth map back-projected through the model's rays.
  sg::data::SynthParams p;
  p.count = 4;
  p.size = 64;
  const sg::data::SynthSample s = sg::data::render_synth_sample(p, 1);
  const int64_t S = p.size;
  const at::Tensor depth = at::from_blob(const_cast<float*>(s.depth.data()), {1, S, S}, at::kFloat).clone();
  at::Tensor world = at::from_blob(const_cast<float*>(s.normal.data()), {1, S, S, 3}, at::kFloat)
                         .to(at::kDouble);
  const auto R = sg::data::cam2world_rotation(sg::data::camera_origin(s.pose));
  // camera = R^T world (R's columns are the camera axes in world space, row-major storage).
  const at::Tensor Rt = at::tensor(std::vector<double>(R.begin(), R.end()), at::kDouble).view({3, 3});
  const at::Tensor camera = at::matmul(world, Rt);  // rows n^T R = (R^T n)^T
  std::vector<uint8_t> mask8(s.mask.begin(), s.mask.end());
  const at::Tensor mask = erode_mask(at::from_blob(mask8.data(), {1, S, S}, at::kByte).clone());
  REQUIRE(mask.sum().item<int64_t>() > 500);
  const double mad = mean_angle_deviation(normals_from_depth(depth, p.camera.fov), camera, mask)[0]
                         .item<double>();
  MESSAGE("depth normals vs true normals: " << mad << " deg");
  CHECK(mad < 1.0);  // measured 0.31 deg at 64 px
  // A mirrored camera (x flipped) is what a convention mismatch would look like: far off.
  const at::Tensor mirrored = camera * at::tensor({-1.0, 1.0, 1.0}, at::kDouble);
  CHECK(mean_angle_deviation(normals_from_depth(depth, p.camera.fov), mirrored, mask)[0]
            .item<double>() > mad + 10);
}

TEST_CASE("shape accuracy summary is the mean and population std over images") {
  const ShapeAccuracy s = summarize_shape_accuracy(at::tensor({0.1, 0.3}, at::kDouble),
                                                   at::tensor({10.0, 20.0, }, at::kDouble),
                                                   at::tensor({30.0, 50.0}, at::kDouble));
  CHECK(s.images == 2);
  CHECK(s.side_mean == doctest::Approx(0.2));
  CHECK(s.side_std == doctest::Approx(0.1));
  CHECK(s.mad_mean == doctest::Approx(15.0));
  CHECK(s.mad_std == doctest::Approx(5.0));
  CHECK(s.mad_depth_mean == doctest::Approx(40.0));
  CHECK(s.mad_depth_std == doctest::Approx(10.0));
}
