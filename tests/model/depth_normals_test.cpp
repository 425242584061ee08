#include "model/depth_normals.h"

#include <doctest/doctest.h>

#include <cmath>

#include "model/camera.h"

using namespace sg::model;

namespace {

// The depth map (1, S*S) of the plane n . x = c seen by the camera at `origin` (1, 3) looking at
// the world origin: each pixel's world ray hits the plane at distance t.
at::Tensor plane_depth(const at::Tensor& n, double c, const at::Tensor& origin, int64_t S, double fov) {
  const at::Tensor rot = cam2world_matrix(-origin / at::norm(origin, 2, {-1}, true), origin)
                             .slice(1, 0, 3).slice(2, 0, 3)[0];
  const at::Tensor dirs = at::matmul(pixel_directions(S, fov), rot.t());  // (S*S, 3) world
  const at::Tensor t = (c - (n * origin[0]).sum()) / at::matmul(dirs, n);
  return t.unsqueeze(0);
}

}  // namespace

TEST_CASE("depth_map_normals: the normal of a plane, in world space, facing the camera") {
  const int64_t S = 16;
  const double fov = 12;
  for (double yaw : {M_PI / 2, M_PI / 2 + 0.3}) {
    CAPTURE(yaw);
    const at::Tensor origin = pose_to_origin(at::full({1, 1}, M_PI / 2, at::kFloat), at::full({1, 1}, yaw, at::kFloat));
    for (auto nv : {std::vector<float>{0, 0, 1}, std::vector<float>{0.3f, -0.2f, 0.9f}, std::vector<float>{0, 0, -1}}) {
      at::Tensor n = at::tensor(nv);
      n = n / n.norm();
      const at::Tensor depth = plane_depth(n, 0.0, origin, S, fov);
      const at::Tensor got = depth_map_normals(depth, S, fov, origin);
      REQUIRE(got.sizes() == at::IntArrayRef({1, S * S, 3}));
      // Facing the camera: the sign of n that points from the plane (through 0) toward the origin.
      const at::Tensor want = (n * origin[0]).sum().item<double>() > 0 ? n : -n;
      const double worst = (got[0] - want).abs().max().item<double>();
      CHECK(worst < 1e-3);
      CHECK((got.norm(2, -1) - 1).abs().max().item<double>() < 1e-5);
    }
  }
}

TEST_CASE("depth_map_normals: gradients reach the depth map and stay finite") {
  const int64_t S = 8;
  const at::Tensor origin = pose_to_origin(at::full({1, 1}, M_PI / 2, at::kFloat), at::full({1, 1}, M_PI / 2, at::kFloat));
  at::Tensor depth = at::full({1, S * S}, 1.0, at::kFloat).requires_grad_(true);
  const at::Tensor nrm = depth_map_normals(depth, S, 12, origin);
  (nrm.select(-1, 0) * at::linspace(-1, 1, S * S)).sum().backward();
  REQUIRE(depth.grad().defined());
  CHECK(at::isfinite(depth.grad()).all().item<bool>());
  CHECK(depth.grad().abs().sum().item<double>() > 0);
}
