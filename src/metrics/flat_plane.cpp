#include "metrics/flat_plane.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "core/error.h"
#include "metrics/shape_accuracy.h"
#include "model/camera.h"

namespace sg::metrics {

namespace {

constexpr double kPi = 3.14159265358979323846;
// Weiszfeld's iteration converges linearly; the mean angle changes by < 1e-6 degrees long before.
constexpr int kIterations = 100;

// (B) mean angle in degrees between n (B, 3) and the normals t (B, P, 3) under the weights m (B, P).
at::Tensor mean_angle(const at::Tensor& n, const at::Tensor& t, const at::Tensor& m, const at::Tensor& count) {
  const at::Tensor c = (t * n.unsqueeze(1)).sum(-1).clamp(-1, 1);
  return (c.acos() * m).sum(1) / count * (180.0 / kPi);
}

}  // namespace

at::Tensor best_plane_angle(const at::Tensor& normal_true, const at::Tensor& mask) {
  if (normal_true.dim() != 4 || normal_true.size(3) != 3 || mask.dim() != 3 ||
      mask.sizes() != normal_true.sizes().slice(0, 3))
    throw FormatError("best_plane_angle needs (B, H, W, 3) normals and a (B, H, W) mask of one size");
  const int64_t B = normal_true.size(0);
  const at::Tensor m = (mask.to(at::kDouble) > 0.5).to(at::kDouble).view({B, -1});
  const at::Tensor count = m.sum(1);
  if ((count == 0).any().item<bool>()) throw FormatError("best_plane_angle: an image's mask selects no pixel");
  at::Tensor t = normal_true.to(at::kDouble).view({B, -1, 3});
  const at::Tensor len = t.norm(2, -1, true);
  if (((len.squeeze(-1) == 0) & (m > 0)).any().item<bool>())
    throw FormatError("best_plane_angle: a normal inside the mask is zero");
  t = t / at::where(len > 0, len, at::ones_like(len));

  // Start from the normalised mean (the minimiser of the mean squared chord), then move toward
  // the minimiser of the mean angle: n <- exp_n(sum w log_n(t) / sum w), w = 1 / angle.
  at::Tensor n = (t * m.unsqueeze(-1)).sum(1);
  n = n / n.norm(2, -1, true).clamp_min(1e-12);
  at::Tensor best = mean_angle(n, t, m, count);
  for (int i = 0; i < kIterations; ++i) {
    const at::Tensor c = (t * n.unsqueeze(1)).sum(-1, true).clamp(-1, 1);  // (B, P, 1)
    const at::Tensor theta = c.acos().clamp_min(1e-9);
    // log_n(t) = theta (t - c n) / |t - c n|; |t - c n| = sin(theta).
    const at::Tensor tangent = t - c * n.unsqueeze(1);
    const at::Tensor sine = tangent.norm(2, -1, true).clamp_min(1e-12);
    const at::Tensor w = m.unsqueeze(-1) / theta;
    const at::Tensor v = (w * theta * tangent / sine).sum(1) / w.sum(1).clamp_min(1e-12);  // (B, 3)
    const at::Tensor step = v.norm(2, -1, true);
    n = n * step.cos() + v / step.clamp_min(1e-12) * step.sin();
    n = n / n.norm(2, -1, true);
    best = at::minimum(best, mean_angle(n, t, m, count));
  }
  return best;
}

at::Tensor plane_fit_depth_error(const at::Tensor& depth_true, const at::Tensor& mask, double fov_degrees) {
  if (depth_true.dim() != 3 || depth_true.size(1) != depth_true.size(2) || mask.sizes() != depth_true.sizes())
    throw FormatError("plane_fit_depth_error needs (B, S, S) depths and a mask of one size");
  const int64_t B = depth_true.size(0), S = depth_true.size(1);
  const at::Tensor m = (mask.to(at::kDouble) > 0.5).to(at::kDouble).view({B, -1, 1});
  const at::Tensor count = m.sum(1);  // (B, 1)
  if ((count == 0).any().item<bool>()) throw FormatError("plane_fit_depth_error: an image's mask selects no pixel");
  const at::Tensor d = model::pixel_directions(S, fov_degrees, at::TensorOptions().dtype(at::kFloat))
                           .to(at::kDouble).view({1, S * S, 3});
  const at::Tensor p = depth_true.to(at::kDouble).view({B, -1, 1}) * d;  // (B, P, 3)
  const at::Tensor centre = (p * m).sum(1) / count;                       // (B, 3)
  const at::Tensor q = (p - centre.unsqueeze(1)) * m;
  const at::Tensor cov = at::matmul(q.transpose(1, 2), q);                // (B, 3, 3)
  // The plane's normal: the covariance's eigenvector of the smallest eigenvalue (ascending order).
  const at::Tensor n = std::get<1>(at::linalg_eigh(cov)).select(2, 0);   // (B, 3)
  const at::Tensor along = (d * n.unsqueeze(1)).sum(-1);                  // (B or 1, P)
  const at::Tensor offset = (centre * n).sum(-1, true);                   // (B, 1)
  // A ray parallel to the plane (n . d = 0) never meets it; keep the true depth there, which
  // only flatters the baseline, and only at grazing pixels of a plane seen edge-on.
  const at::Tensor truth = depth_true.to(at::kDouble).view({B, -1});
  at::Tensor plane = offset / at::where(along.abs() < 1e-9, at::ones_like(along), along);
  plane = at::where((along.abs() < 1e-9) | (plane <= 0), truth, plane);
  return scale_invariant_depth_error(plane.view({B, S, S}), depth_true, mask);
}

}  // namespace sg::metrics
