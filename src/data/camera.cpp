#include "data/camera.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/text.h"

namespace sg::data {
namespace {

constexpr double kPi = 3.14159265358979323846;

Vec3 normalize(const Vec3& v) {
  const double n = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  return {v[0] / n, v[1] / n, v[2] / n};
}
Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}

// torch.nn.init.trunc_normal_-like draw used by the reference's truncated_gaussian: the first of
// four normals inside (−2, 2), else the first draw (spec §15.6).
double truncated_normal(Rng& rng) {
  double first = 0;
  for (int i = 0; i < 4; ++i) {
    const double g = rng.normal();
    if (i == 0) first = g;
    if (g > -2 && g < 2) return g;
  }
  return first;
}

}  // namespace

const std::vector<std::string>& sample_dist_names() {
  static const std::vector<std::string> n = {"gaussian", "normal", "uniform", "hybrid",
                                             "truncated_gaussian", "spherical_uniform", "fixed"};
  return n;
}

void validate(const CameraDist& d) {
  const auto& names = sample_dist_names();
  if (std::find(names.begin(), names.end(), d.sample_dist) == names.end())
    throw ConfigError(unknown_name_message("sample_dist", d.sample_dist, names));
  if (!(d.fov > 0 && d.fov < 180)) throw ConfigError("fov must be in (0, 180) degrees");
  if (!(d.ray_start >= 0 && d.ray_start < 1 && d.ray_end > 1))
    throw ConfigError("ray_start/ray_end must bracket the object at the origin seen from distance 1 "
                      "(ray_start < 1 < ray_end)");
  if (d.h_stddev < 0 || d.v_stddev < 0) throw ConfigError("h_stddev and v_stddev must be >= 0");
}

Pose sample_pose(const CameraDist& d, Rng& rng) {
  Pose p;
  const std::string& m = d.sample_dist;
  auto uniform_pose = [&](double scale) {
    p.yaw = d.h_mean + scale * d.h_stddev * (2 * rng.uniform() - 1);
    p.pitch = d.v_mean + scale * d.v_stddev * (2 * rng.uniform() - 1);
  };
  auto gaussian_pose = [&] {
    p.yaw = d.h_mean + d.h_stddev * rng.normal();
    p.pitch = d.v_mean + d.v_stddev * rng.normal();
  };
  if (m == "gaussian" || m == "normal") {
    gaussian_pose();
  } else if (m == "uniform") {
    uniform_pose(1);
  } else if (m == "hybrid") {
    if (rng.uniform() < 0.5) uniform_pose(2);
    else gaussian_pose();
  } else if (m == "truncated_gaussian") {
    p.yaw = d.h_mean + d.h_stddev * truncated_normal(rng);
    p.pitch = d.v_mean + d.v_stddev * truncated_normal(rng);
  } else if (m == "spherical_uniform") {
    p.yaw = d.h_mean + d.h_stddev * (2 * rng.uniform() - 1);
    const double v = std::clamp(d.v_mean / kPi + (d.v_stddev / kPi) * (2 * rng.uniform() - 1), 1e-5,
                                1 - 1e-5);
    p.pitch = std::acos(1 - 2 * v);
  } else {
    p.yaw = d.h_mean;
    p.pitch = d.v_mean;
  }
  p.pitch = std::clamp(p.pitch, 1e-5, kPi - 1e-5);
  return p;
}

Vec3 camera_origin(const Pose& p) {
  return {std::sin(p.pitch) * std::cos(p.yaw), std::cos(p.pitch), std::sin(p.pitch) * std::sin(p.yaw)};
}

std::array<double, 9> cam2world_rotation(const Vec3& o) {
  const Vec3 f = normalize({-o[0], -o[1], -o[2]});
  const Vec3 left = normalize(cross({0, 1, 0}, f));
  const Vec3 up = normalize(cross(f, left));
  // Columns: −left, up, −f.
  return {-left[0], up[0], -f[0], -left[1], up[1], -f[1], -left[2], up[2], -f[2]};
}

Vec3 camera_ray(int r, int c, int size, double fov_degrees) {
  const double x = size == 1 ? -1.0 : -1.0 + 2.0 * c / (size - 1);
  const double y = size == 1 ? 1.0 : 1.0 - 2.0 * r / (size - 1);
  const double z = -1.0 / std::tan(fov_degrees * kPi / 360.0);
  return normalize({x, y, z});
}

}  // namespace sg::data
