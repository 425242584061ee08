#pragma once
// Cameras and rays (spec §4.1-4.4): camera sampling on the unit sphere, camera-space pixel rays,
// stratified perturbation and the camera-to-world transform.
#include <ATen/ATen.h>

#include "model/draws.h"
#include "model/options.h"

namespace sg::model {

struct CameraSample {
  at::Tensor origin;  // (n, 3)
  at::Tensor pitch;   // (n, 1) phi, polar angle from +y
  at::Tensor yaw;     // (n, 1) theta
};

// sample_camera_positions with r = 1; phi clamped to [1e-5, pi - 1e-5].
CameraSample sample_camera(int64_t n, const CameraOptions& cam, Draws& draws,
                           const at::TensorOptions& opts = {});
// o = (sin phi cos theta, cos phi, sin phi sin theta); pitch, yaw (n, 1).
at::Tensor pose_to_origin(const at::Tensor& pitch, const at::Tensor& yaw);
// (n, 4, 4): rotation columns [-left, up', -forward], translation origin.
at::Tensor cam2world_matrix(const at::Tensor& forward, const at::Tensor& origin);

struct Rays {
  at::Tensor points;  // (B, R, N, 3) camera space
  at::Tensor z_vals;  // (B, R, N, 1) distances along the unit ray
  at::Tensor dirs;    // (B, R, 3) unit camera-space directions
};

// Unit pixel directions, row-major from the top-left pixel, (S*S, 3).
at::Tensor pixel_directions(int64_t img_size, double fov, const at::TensorOptions& opts = {});
// get_initial_rays_trig: N distances linspace(ray_start, ray_end) per pixel.
Rays initial_rays(int64_t n, int64_t num_steps, int64_t img_size, double fov, double ray_start,
                  double ray_end, const at::TensorOptions& opts = {});
// get_rays_from_depth: N distances depth + (delta/2) linspace(-1, 1) per pixel; depth (B, S, S).
Rays rays_from_depth(int64_t num_steps, const at::Tensor& depth, double delta, double fov);

struct WorldRays {
  at::Tensor points;   // (B, R, N, 3) world space (perturbed)
  at::Tensor z_vals;   // (B, R, N, 1) perturbed distances
  at::Tensor dirs;     // (B, R, 3) world directions
  at::Tensor origins;  // (B, R, 3)
};

// transform_sampled_points: perturbation (always applied, one uniform per sample) then the
// camera-to-world transform for cameras at `origin` (B, 3).
WorldRays transform_sampled_points(const Rays& rays, const at::Tensor& origin, Draws& draws);

// resize() of the reference: area when shrinking, bilinear (align_corners false) when enlarging,
// identity when equal. `x` is (B, H, W) or (B, C, H, W).
at::Tensor resize_map(const at::Tensor& x, int64_t size);

}  // namespace sg::model
