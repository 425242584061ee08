#pragma once
// The reference's camera model, as far as a data generator needs it: pose sampling
// (`sample_camera_positions`, spec §4.1), camera-space pixel rays (`get_initial_rays_trig`,
// §4.2) and the look-at cam2world rotation (§4.3). Double precision: this is ground truth.
#include <array>
#include <string>
#include <vector>

#include "data/rng.h"

namespace sg::data {

using Vec3 = std::array<double, 3>;

// The curriculum keys of spec §1.3 that describe where the camera is and what it sees.
struct CameraDist {
  double fov = 12;  // degrees
  double ray_start = 0.88, ray_end = 1.12;
  double h_mean = 1.5707963267948966, v_mean = 1.5707963267948966;
  double h_stddev = 0.3, v_stddev = 0.155;
  std::string sample_dist = "gaussian";
};

// gaussian, normal, uniform, hybrid, truncated_gaussian, spherical_uniform, fixed.
const std::vector<std::string>& sample_dist_names();
// ConfigError listing the valid names when sample_dist is not one of them, or a range is wrong.
void validate(const CameraDist& d);

struct Pose {
  double yaw = 0, pitch = 0;  // θ (horizontal) and φ (polar angle from +y), radians
};

// One draw of spec §4.1's table (the hybrid coin is per sample), then φ clamped to
// [1e-5, π − 1e-5].
Pose sample_pose(const CameraDist& d, Rng& rng);
// o = (sin φ cos θ, cos φ, sin φ sin θ): on the unit sphere, looking at the origin.
Vec3 camera_origin(const Pose& p);
// Columns [−left, up', −f] (spec §4.3), row-major 3x3.
std::array<double, 9> cam2world_rotation(const Vec3& origin);
// Unit direction, in camera space, of pixel (row r, column c) of an S×S image (spec §4.2).
Vec3 camera_ray(int r, int c, int size, double fov_degrees);

inline Vec3 rotate(const std::array<double, 9>& R, const Vec3& v) {
  return {R[0] * v[0] + R[1] * v[1] + R[2] * v[2], R[3] * v[0] + R[4] * v[1] + R[5] * v[2],
          R[6] * v[0] + R[7] * v[1] + R[8] * v[2]};
}

}  // namespace sg::data
