#include "metrics/shape_accuracy.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

#include "core/error.h"
#include "model/camera.h"

namespace sg::metrics {

namespace {

constexpr double kPi = 3.14159265358979323846;

std::string shape(const at::Tensor& t) { return fmt::format("({})", fmt::join(t.sizes(), ", ")); }

// The mask as float64 0/1 and its per-image pixel counts; every image needs one pixel.
std::pair<at::Tensor, at::Tensor> weights_of(const at::Tensor& mask, const char* what) {
  const at::Tensor m = (mask.to(at::kDouble) > 0.5).to(at::kDouble);
  const at::Tensor count = m.flatten(1).sum(1);
  const at::Tensor empty = (count == 0).nonzero();
  if (empty.numel() > 0)
    throw FormatError(fmt::format("{}: the mask of image {} selects no pixel", what,
                                  empty[0][0].item<int64_t>()));
  return {m, count};
}

}  // namespace

at::Tensor scale_invariant_depth_error(const at::Tensor& depth_pred, const at::Tensor& depth_true,
                                       const at::Tensor& mask) {
  if (depth_pred.dim() != 3 || depth_pred.sizes() != depth_true.sizes() ||
      depth_pred.sizes() != mask.sizes())
    throw FormatError(fmt::format("scale-invariant depth error needs (B, H, W) depths and mask of "
                                  "one shape, got {}, {} and {}",
                                  shape(depth_pred), shape(depth_true), shape(mask)));
  const auto [m, count] = weights_of(mask, "scale-invariant depth error");
  const at::Tensor pred = depth_pred.to(at::kDouble);
  const at::Tensor truth = depth_true.to(at::kDouble);
  const at::Tensor inside = m > 0;
  if ((pred.masked_select(inside) <= 0).any().item<bool>() ||
      (truth.masked_select(inside) <= 0).any().item<bool>())
    throw FormatError("scale-invariant depth error: depth must be positive inside the mask");
  // Outside the mask the depth may be anything (background): replace it before the log.
  const at::Tensor diff = (at::where(inside, pred, at::ones_like(pred)).log() -
                           at::where(inside, truth, at::ones_like(truth)).log()) *
                          m;
  const at::Tensor mean = diff.flatten(1).sum(1) / count;
  const at::Tensor centred = (diff - mean.view({-1, 1, 1})) * m;
  return (centred.pow(2).flatten(1).sum(1) / count).sqrt();
}

at::Tensor mean_angle_deviation(const at::Tensor& normal_pred, const at::Tensor& normal_true,
                                const at::Tensor& mask) {
  if (normal_pred.dim() != 4 || normal_pred.size(3) != 3 ||
      normal_pred.sizes() != normal_true.sizes() || mask.dim() != 3 ||
      mask.sizes() != normal_pred.sizes().slice(0, 3))
    throw FormatError(fmt::format("mean angle deviation needs (B, H, W, 3) normals and a (B, H, W) "
                                  "mask, got {}, {} and {}",
                                  shape(normal_pred), shape(normal_true), shape(mask)));
  const auto [m, count] = weights_of(mask, "mean angle deviation");
  const at::Tensor inside = m > 0;
  const at::Tensor a = normal_pred.to(at::kDouble);
  const at::Tensor b = normal_true.to(at::kDouble);
  const at::Tensor na = a.norm(2, -1), nb = b.norm(2, -1);
  if ((na.masked_select(inside) == 0).any().item<bool>() ||
      (nb.masked_select(inside) == 0).any().item<bool>())
    throw FormatError("mean angle deviation: a normal inside the mask is zero");
  const at::Tensor cosine =
      ((a * b).sum(-1) / at::where(inside, na * nb, at::ones_like(na))).clamp(-1, 1);
  const at::Tensor degrees = cosine.acos() * (180.0 / kPi) * m;
  return degrees.flatten(1).sum(1) / count;
}

at::Tensor normals_from_depth(const at::Tensor& depth, double fov_degrees) {
  if (depth.dim() != 3 || depth.size(1) != depth.size(2) || depth.size(1) < 3)
    throw FormatError(fmt::format("normals_from_depth needs (B, S, S) depth maps with S >= 3, got {}",
                                  shape(depth)));
  const int64_t B = depth.size(0), S = depth.size(1);
  const at::Tensor d =
      model::pixel_directions(S, fov_degrees, depth.options()).to(at::kDouble).view({1, S, S, 3});
  const at::Tensor p = depth.to(at::kDouble).unsqueeze(-1) * d;  // (B, S, S, 3) camera space
  const at::Tensor inner = p.slice(1, 1, S - 1);
  const at::Tensor tu = inner.slice(2, 2, S) - inner.slice(2, 0, S - 2);  // along +x (columns)
  const at::Tensor cols = p.slice(2, 1, S - 1);
  const at::Tensor tv = cols.slice(1, 2, S) - cols.slice(1, 0, S - 2);    // along -y (rows down)
  // (-y) x (+x) = +z: toward the camera, which looks down -z.
  at::Tensor n = at::cross(tv, tu, -1);
  n = n / (n.norm(2, -1, true) + 1e-12);
  at::Tensor out = at::zeros({B, S, S, 3}, n.options());
  out.slice(1, 1, S - 1).slice(2, 1, S - 1).copy_(n);
  return out;
}

at::Tensor erode_mask(const at::Tensor& mask) {
  if (mask.dim() != 3)
    throw FormatError(fmt::format("erode_mask needs a (B, H, W) mask, got {}", shape(mask)));
  const at::Tensor m = (mask.to(at::kDouble) > 0.5).to(at::kDouble).unsqueeze(1);
  // count_include_pad: a pixel on the image border has padding neighbours and is dropped.
  const at::Tensor mean = at::avg_pool2d(m, {3, 3}, {1, 1}, {1, 1}, false, true);
  return (mean > 0.99).squeeze(1);
}

ShapeAccuracy summarize_shape_accuracy(const at::Tensor& side, const at::Tensor& mad,
                                       const at::Tensor& mad_depth) {
  if (side.dim() != 1 || side.sizes() != mad.sizes() || side.sizes() != mad_depth.sizes() ||
      side.numel() == 0)
    throw FormatError("shape accuracy summary needs three non-empty per-image vectors of one length");
  ShapeAccuracy s;
  s.images = side.numel();
  const at::Tensor sd = side.to(at::kDouble), md = mad.to(at::kDouble);
  s.side_mean = sd.mean().item<double>();
  s.side_std = sd.std(/*unbiased=*/false).item<double>();
  s.mad_mean = md.mean().item<double>();
  s.mad_std = md.std(/*unbiased=*/false).item<double>();
  const at::Tensor dd = mad_depth.to(at::kDouble);
  s.mad_depth_mean = dd.mean().item<double>();
  s.mad_depth_std = dd.std(/*unbiased=*/false).item<double>();
  return s;
}

}  // namespace sg::metrics
