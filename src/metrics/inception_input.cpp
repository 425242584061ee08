#include "metrics/inception_input.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"
#include "core/text.h"

namespace sg::metrics {

namespace {
constexpr int64_t kSize = 299;

struct Axis {
  at::Tensor lo, hi, frac;
};

// One axis of the TF1 grid: float32 source coordinates dst * (in / out), where in / out is a
// Python float (double) rounded to float32 as torch.tensor(scale, dtype=float32) does.
Axis tf1_axis(int64_t in, int64_t out) {
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  const at::Tensor coord = at::arange(out, at::kFloat) * at::scalar_tensor(scale, at::kFloat);
  Axis a;
  a.lo = coord.to(at::kLong);  // truncation toward zero == floor for these non-negatives
  a.hi = (a.lo + 1).clamp_max(in - 1);
  a.frac = coord - a.lo.to(at::kFloat);
  return a;
}
}  // namespace

InceptionInput inception_input_from_name(const std::string& name) {
  if (name == "torch-fidelity") return InceptionInput::torch_fidelity;
  if (name == "pytorch-fid") return InceptionInput::pytorch_fid;
  throw ConfigError(
      unknown_name_message("Inception input mode", name, {"torch-fidelity", "pytorch-fid"}));
}

const char* inception_input_name(InceptionInput mode) {
  return mode == InceptionInput::torch_fidelity ? "torch-fidelity" : "pytorch-fid";
}

at::Tensor resize_bilinear_tf1(const at::Tensor& images, int64_t height, int64_t width) {
  if (images.dim() != 4 || images.scalar_type() != at::kFloat)
    throw FormatError("TF1 bilinear resize needs a (B, C, H, W) float32 tensor");
  const Axis y = tf1_axis(images.size(2), height);
  const Axis x = tf1_axis(images.size(3), width);
  const at::Tensor top = images.index_select(2, y.lo);
  const at::Tensor bottom = images.index_select(2, y.hi);
  const at::Tensor in00 = top.index_select(3, x.lo);
  const at::Tensor in01 = top.index_select(3, x.hi);
  const at::Tensor in10 = bottom.index_select(3, x.lo);
  const at::Tensor in11 = bottom.index_select(3, x.hi);
  const at::Tensor dx = x.frac.view({1, 1, 1, width});
  const at::Tensor dy = y.frac.view({1, 1, height, 1});
  const at::Tensor in0 = in00 + (in01 - in00) * dx;
  const at::Tensor in1 = in10 + (in11 - in10) * dx;
  return in0 + (in1 - in0) * dy;
}

at::Tensor inception_preprocess(const at::Tensor& images, InceptionInput mode) {
  if (images.dim() != 4 || images.size(1) != 3)
    throw FormatError(fmt::format("the FID Inception network needs (B, 3, H, W) images, got ({})",
                                  fmt::join(images.sizes(), ", ")));
  if (!images.is_floating_point() && images.scalar_type() != at::kByte)
    throw FormatError("the FID Inception network needs uint8 or floating images in [0, 255]");
  const at::Tensor x = images.to(at::kFloat);
  if (mode == InceptionInput::torch_fidelity)
    return (resize_bilinear_tf1(x, kSize, kSize) - 128) / 128;
  const at::Tensor unit = x / 255;  // torchvision ToTensor
  const at::Tensor resized = at::upsample_bilinear2d(unit, {kSize, kSize}, /*align_corners=*/false);
  return 2 * resized - 1;
}

}  // namespace sg::metrics
