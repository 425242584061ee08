#include "model/camera.h"

#include <cmath>

#include "core/error.h"
#include "core/text.h"

namespace sg::model {

namespace {

at::Tensor normalize_vecs(const at::Tensor& v) { return v / at::norm(v, 2, {-1}, true); }

// truncated_normal_ of the reference: 4 normal draws per value, the first inside (-2, 2) wins,
// the first draw when none is (spec §15.6).
at::Tensor truncated_normal(int64_t n, Draws& draws, const at::TensorOptions& opts) {
  at::Tensor tmp = draws.normal(Draw::camera, {n, 1, 4}, opts);
  at::Tensor valid = (tmp < 2).logical_and(tmp > -2);
  at::Tensor ind = std::get<1>(valid.max(-1, true));
  return tmp.gather(-1, ind).squeeze(-1);
}

}  // namespace

CameraSample sample_camera(int64_t n, const CameraOptions& cam, Draws& draws,
                           const at::TensorOptions& opts_in) {
  const auto opts = opts_in.dtype(at::kFloat);
  const double h = cam.h_stddev, v = cam.v_stddev, hm = cam.h_mean, vm = cam.v_mean;
  at::Tensor theta, phi;
  auto uniform_pair = [&](double scale) {
    theta = (draws.uniform(Draw::camera, {n, 1}, opts) - 0.5) * 2 * h * scale + hm;
    phi = (draws.uniform(Draw::camera, {n, 1}, opts) - 0.5) * 2 * v * scale + vm;
  };
  auto gaussian_pair = [&] {
    theta = draws.normal(Draw::camera, {n, 1}, opts) * h + hm;
    phi = draws.normal(Draw::camera, {n, 1}, opts) * v + vm;
  };
  switch (cam.dist) {
    case CameraDist::uniform:
      theta = (draws.uniform(Draw::camera, {n, 1}, opts) - 0.5) * 2 * h + hm;
      phi = (draws.uniform(Draw::camera, {n, 1}, opts) - 0.5) * 2 * v + vm;
      break;
    case CameraDist::gaussian: gaussian_pair(); break;
    case CameraDist::hybrid:
      // One coin per call: doubled uniform ranges or the gaussian.
      if (draws.uniform(Draw::hybrid_coin, {1}, at::TensorOptions().dtype(at::kDouble))
              .item<double>() < 0.5) {
        uniform_pair(2.0);
      } else {
        gaussian_pair();
      }
      break;
    case CameraDist::truncated_gaussian:
      theta = truncated_normal(n, draws, opts) * h + hm;
      phi = truncated_normal(n, draws, opts) * v + vm;
      break;
    case CameraDist::spherical_uniform: {
      theta = (draws.uniform(Draw::camera, {n, 1}, opts) - .5) * 2 * h + hm;
      const double vs = v / M_PI, vmean = vm / M_PI;
      at::Tensor vv = (draws.uniform(Draw::camera, {n, 1}, opts) - .5) * 2 * vs + vmean;
      vv = at::clamp(vv, 1e-5, 1 - 1e-5);
      phi = at::arccos(1 - 2 * vv);
      break;
    }
    case CameraDist::fixed:
      theta = at::ones({n, 1}, opts) * hm;
      phi = at::ones({n, 1}, opts) * vm;
      break;
  }
  phi = at::clamp(phi, 1e-5, M_PI - 1e-5);
  return {pose_to_origin(phi, theta), phi, theta};
}

at::Tensor pose_to_origin(const at::Tensor& pitch, const at::Tensor& yaw) {
  const int64_t n = pitch.size(0);
  at::Tensor o = at::zeros({n, 3}, pitch.options());
  o.slice(1, 0, 1).copy_(at::sin(pitch) * at::cos(yaw));
  o.slice(1, 2, 3).copy_(at::sin(pitch) * at::sin(yaw));
  o.slice(1, 1, 2).copy_(at::cos(pitch));
  return o;
}

at::Tensor cam2world_matrix(const at::Tensor& forward_in, const at::Tensor& origin) {
  const auto opts = origin.options();
  const int64_t n = forward_in.size(0);
  at::Tensor forward = normalize_vecs(forward_in);
  at::Tensor up = at::tensor({0.f, 1.f, 0.f}, opts).expand_as(forward);
  at::Tensor left = normalize_vecs(at::cross(up, forward, -1));
  up = normalize_vecs(at::cross(forward, left, -1));
  at::Tensor rot = at::eye(4, opts).unsqueeze(0).repeat({n, 1, 1});
  rot.slice(1, 0, 3).slice(2, 0, 3).copy_(at::stack({-left, up, -forward}, -1));
  at::Tensor trans = at::eye(4, opts).unsqueeze(0).repeat({n, 1, 1});
  trans.slice(1, 0, 3).select(2, 3).copy_(origin);
  return at::matmul(trans, rot);
}

at::Tensor pixel_directions(int64_t img_size, double fov, const at::TensorOptions& opts_in) {
  const auto opts = opts_in.dtype(at::kFloat);
  const int64_t W = img_size, H = img_size;
  // meshgrid('ij') of (linspace(-1,1,W), linspace(1,-1,H)), transposed and flattened: x varies
  // along columns (fastest), y along rows, top row first.
  auto grids = at::meshgrid({at::linspace(-1, 1, W, opts), at::linspace(1, -1, H, opts)}, "ij");
  at::Tensor x = grids[0].t().flatten();
  at::Tensor y = grids[1].t().flatten();
  at::Tensor z = -at::ones_like(x) / std::tan((2 * M_PI * fov / 360) / 2);
  return normalize_vecs(at::stack({x, y, z}, -1));
}

Rays initial_rays(int64_t n, int64_t num_steps, int64_t img_size, double fov, double ray_start,
                  double ray_end, const at::TensorOptions& opts_in) {
  const auto opts = opts_in.dtype(at::kFloat);
  const int64_t R = img_size * img_size;
  at::Tensor d = pixel_directions(img_size, fov, opts);
  at::Tensor z = at::linspace(ray_start, ray_end, num_steps, opts).reshape({1, num_steps, 1})
                     .repeat({R, 1, 1});
  at::Tensor points = d.unsqueeze(1).repeat({1, num_steps, 1}) * z;
  return {points.unsqueeze(0).repeat({n, 1, 1, 1}), z.unsqueeze(0).repeat({n, 1, 1, 1}),
          d.unsqueeze(0).repeat({n, 1, 1})};
}

Rays rays_from_depth(int64_t num_steps, const at::Tensor& depth, double delta, double fov) {
  const int64_t n = depth.size(0), S = depth.size(-1), R = S * S;
  const auto opts = depth.options();
  at::Tensor d = pixel_directions(S, fov, opts);
  at::Tensor delta_t = at::ones_like(depth) * delta;
  at::Tensor z = at::linspace(-1, 1, num_steps, opts).reshape({1, 1, num_steps, 1})
                     .repeat({n, R, 1, 1});
  z = z * (delta_t / 2).reshape({n, R, 1, 1}) + depth.reshape({n, R, 1, 1});
  at::Tensor points = d.index({at::indexing::None, at::indexing::Slice(), at::indexing::None,
                               at::indexing::Slice()})
                          .repeat({n, 1, num_steps, 1}) *
                      z;
  return {points, z, d.unsqueeze(0).repeat({n, 1, 1})};
}

WorldRays transform_sampled_points(const Rays& rays, const at::Tensor& origin, Draws& draws) {
  const int64_t n = rays.points.size(0), R = rays.points.size(1), N = rays.points.size(2);
  const auto opts = rays.points.options();
  // perturb_points: one uniform offset per sample, scaled by the ray's first interval.
  at::Tensor spacing = rays.z_vals.slice(2, 1, 2) - rays.z_vals.slice(2, 0, 1);
  at::Tensor offset = (draws.uniform(Draw::perturbation, rays.z_vals.sizes(), opts) - 0.5) * spacing;
  at::Tensor z_vals = rays.z_vals + offset;
  at::Tensor points = rays.points + offset * rays.dirs.unsqueeze(2);

  at::Tensor m = cam2world_matrix(normalize_vecs(-origin), origin);
  at::Tensor ph = at::ones({n, R, N, 4}, opts);
  ph.slice(3, 0, 3).copy_(points);
  at::Tensor world = at::bmm(m, ph.reshape({n, -1, 4}).permute({0, 2, 1}))
                         .permute({0, 2, 1})
                         .reshape({n, R, N, 4});
  at::Tensor dirs = at::bmm(m.slice(1, 0, 3).slice(2, 0, 3),
                            rays.dirs.reshape({n, -1, 3}).permute({0, 2, 1}))
                        .permute({0, 2, 1})
                        .reshape({n, R, 3});
  at::Tensor ho = at::zeros({n, 4, R}, opts);
  ho.select(1, 3).fill_(1);
  at::Tensor origins = at::bmm(m, ho).permute({0, 2, 1}).reshape({n, R, 4}).slice(2, 0, 3);
  return {world.slice(3, 0, 3), z_vals, dirs, origins};
}

at::Tensor resize_map(const at::Tensor& x, int64_t size) {
  const bool flat = x.dim() == 3;
  at::Tensor t = flat ? x.unsqueeze(1) : x;
  if (t.size(-1) > size) {
    t = at::adaptive_avg_pool2d(t, {size, size});
  } else if (t.size(-1) < size) {
    t = at::upsample_bilinear2d(t, {size, size}, false);
  }
  return flat ? t.squeeze(1) : t;
}

}  // namespace sg::model
