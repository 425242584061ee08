#include "metrics/silhouette.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "core/error.h"

namespace sg::metrics {

at::Tensor opacity_from_weights(const at::Tensor& weights, int64_t img_size) {
  if (!weights.defined() || weights.dim() < 3 || weights.size(1) != img_size * img_size)
    throw FormatError(fmt::format("opacity_from_weights: expected (B, {}, K[, 1]) ray weights", img_size * img_size));
  at::Tensor w = weights.dim() == 4 ? weights.squeeze(-1) : weights;
  return w.to(at::kFloat).sum(2).view({weights.size(0), img_size, img_size});
}

at::Tensor silhouette_vectors(const at::Tensor& masks, int64_t n) {
  if (masks.dim() != 3 || masks.size(1) != masks.size(2))
    throw FormatError("silhouette_vectors: expected (B, S, S) masks");
  if (n < 1 || n > masks.size(1))
    throw FormatError(fmt::format("silhouette_vectors: size {} must be in 1..{} (the masks' size)", n, masks.size(1)));
  const at::Tensor m = masks.to(at::kFloat).clamp(0, 1).unsqueeze(1);
  return at::adaptive_avg_pool2d(m, {n, n}).flatten(1).contiguous();
}

at::Tensor soft_iou(const at::Tensor& a, const at::Tensor& b) {
  if (a.dim() != 2 || b.dim() != 2 || a.size(1) != b.size(1))
    throw FormatError("soft_iou: expected two (n, d) tensors of one width");
  const at::Tensor x = a.to(at::kDouble), y = b.to(at::kDouble);
  at::Tensor out = at::empty({x.size(0), y.size(0)}, at::kDouble);
  // A block of rows at a time: the (rows, nb, d) broadcast stays small.
  const int64_t block = std::max<int64_t>(1, (1 << 22) / std::max<int64_t>(1, y.size(0) * y.size(1)));
  for (int64_t r = 0; r < x.size(0); r += block) {
    const at::Tensor xs = x.slice(0, r, std::min(x.size(0), r + block)).unsqueeze(1);
    const at::Tensor inter = at::minimum(xs, y.unsqueeze(0)).sum(2);
    const at::Tensor uni = at::maximum(xs, y.unsqueeze(0)).sum(2);
    out.slice(0, r, r + xs.size(0)).copy_(at::where(uni > 0, inter / uni.clamp_min(1e-300), at::ones_like(uni)));
  }
  return out;
}

double nearest_soft_iou(const at::Tensor& a, const at::Tensor& b) {
  if (a.size(0) < 1 || b.size(0) < 1) throw FormatError("nearest_soft_iou: needs at least one row on each side");
  return std::get<0>(soft_iou(a, b).max(1)).mean().item<double>();
}

}  // namespace sg::metrics
