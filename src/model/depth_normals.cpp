#include "model/depth_normals.h"

#include "model/camera.h"

namespace sg::model {

at::Tensor depth_map_normals(const at::Tensor& depth, int64_t S, double fov, const at::Tensor& origin) {
  const int64_t B = depth.size(0), R = S * S;
  // Camera-space points (B, 3, S, S): each pixel's unit direction times its distance.
  const at::Tensor dirs = pixel_directions(S, fov, depth.options()).reshape({1, S, S, 3});
  at::Tensor p = (depth.reshape({B, S, S, 1}) * dirs).permute({0, 3, 1, 2});
  // Averaged over 3 x 3 pixels first: the expected depth of a sharp surface jitters by about
  // the fine samples' spacing from pixel to pixel (their stratified perturbation), which at
  // 16 px tilts a one-pixel difference by tens of degrees. Replicated borders keep the average
  // and the differences from reaching outside the image.
  const at::Tensor smooth = at::avg_pool2d(at::replication_pad2d(p, {1, 1, 1, 1}), {3, 3}, {1, 1});
  const at::Tensor padded = at::replication_pad2d(smooth, {1, 1, 1, 1});
  // (B, 3, S+2, S+2): rows are dim 2, columns dim 3.
  const at::Tensor inner_rows = padded.slice(2, 1, S + 1), inner_cols = padded.slice(3, 1, S + 1);
  const at::Tensor dx = inner_rows.slice(3, 2, S + 2) - inner_rows.slice(3, 0, S);
  const at::Tensor dy = inner_cols.slice(2, 2, S + 2) - inner_cols.slice(2, 0, S);
  at::Tensor n = at::cross(dx, dy, 1);
  // Facing the camera (at the camera-space origin): n . p < 0.
  n = at::where((n * p).sum(1, true) > 0, -n, n);
  // The epsilon inside the root keeps a flat (zero) difference finite, gradient included; it is
  // far below |n|^2 ~ (distance x pixel angle)^4 even at 512 px.
  n = n / at::sqrt(n.pow(2).sum(1, true) + 1e-20);
  n = n.permute({0, 2, 3, 1}).reshape({B, R, 3});
  // To world space with the camera's rotation, as transform_sampled_points places the rays.
  const at::Tensor o = origin.to(n.scalar_type());
  const at::Tensor forward = -o / at::norm(o, 2, {-1}, true);
  const at::Tensor rot = cam2world_matrix(forward, o).slice(1, 0, 3).slice(2, 0, 3);
  return at::bmm(rot, n.transpose(1, 2)).transpose(1, 2);
}

}  // namespace sg::model
