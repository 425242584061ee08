#include "model/discriminator.h"

#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.h"

namespace sg::model {

using namespace torch::nn;

namespace {

LeakyReLU lrelu() { return LeakyReLU(LeakyReLUOptions().negative_slope(0.2)); }

// F.interpolate(x, scale_factor=0.5, mode='nearest'): the top-left pixel of each 2x2 block
// (spec §15.1), not an average.
at::Tensor nearest_half(const at::Tensor& x) {
  return at::upsample_nearest2d(x, {x.size(2) / 2, x.size(3) / 2});
}

int64_t start_index(const at::Tensor& img, int64_t max_size, int64_t count, const char* what) {
  const int64_t s = img.size(-1);
  const bool pow2 = s >= 2 && (s & (s - 1)) == 0;
  if (img.dim() != 4 || img.size(1) != 3 || img.size(2) != s || !pow2 || s > max_size) {
    throw StageError(std::string(what) + ": expected images (B, 3, S, S) with S a power of two in [2, " +
                     std::to_string(max_size) + "], got " + c10::str(img.sizes()));
  }
  // 2 -> count-1, 4 -> count-2, ...
  return count - static_cast<int64_t>(std::lround(std::log2(static_cast<double>(s))));
}

// A width under the disc_channels cap (0: no cap, the reference's widths).
int64_t capped(int64_t channels, int64_t max_channels) {
  return max_channels > 0 ? std::min(channels, max_channels) : channels;
}

}  // namespace

AdapterBlockImpl::AdapterBlockImpl(int64_t channels) {
  model = register_module("model",
                          Sequential(Conv2d(Conv2dOptions(3, channels, 1).padding(0)), lrelu()));
}

at::Tensor AdapterBlockImpl::forward(const at::Tensor& x) { return model->forward(x); }

CoordConvImpl::CoordConvImpl(int64_t in, int64_t out, int64_t kernel, int64_t padding) {
  conv = register_module("conv", Conv2d(Conv2dOptions(in + 2, out, kernel).padding(padding)));
}

at::Tensor CoordConvImpl::forward(const at::Tensor& x) {
  const int64_t b = x.size(0), h = x.size(2), w = x.size(3);
  const auto opts = x.options();
  at::Tensor rows = at::arange(h, opts.dtype(at::kLong)).to(at::kFloat) / (h - 1) * 2 - 1;
  at::Tensor cols = at::arange(w, opts.dtype(at::kLong)).to(at::kFloat) / (w - 1) * 2 - 1;
  at::Tensor rr = rows.to(x.scalar_type()).view({1, 1, h, 1}).expand({b, 1, h, w});
  at::Tensor cc = cols.to(x.scalar_type()).view({1, 1, 1, w}).expand({b, 1, h, w});
  return conv->forward(at::cat({x, rr, cc}, 1));
}

ResidualCoordConvBlockImpl::ResidualCoordConvBlockImpl(int64_t in, int64_t out) {
  network = register_module(
      "network", Sequential(CoordConv(in, out, 3, 1), lrelu(), CoordConv(out, out, 3, 1), lrelu()));
  // The reference's kaiming init here touches only Linear layers: every conv keeps PyTorch's
  // default init (spec §5.1, §12.2).
  if (in != out) proj = register_module("proj", Conv2d(Conv2dOptions(in, out, 1)));
}

at::Tensor ResidualCoordConvBlockImpl::forward(const at::Tensor& x) {
  at::Tensor y = at::avg_pool2d(network->forward(x), {2, 2});
  at::Tensor id = at::avg_pool2d(x, {2, 2});
  if (proj) id = proj->forward(id);
  return (y + id) / std::sqrt(2.0);
}

StridedResidualConvBlockImpl::StridedResidualConvBlockImpl(int64_t in, int64_t out) {
  network = register_module(
      "network", Sequential(Conv2d(Conv2dOptions(in, out, 3).padding(1)), lrelu(),
                            Conv2d(Conv2dOptions(out, out, 3).stride(2).padding(1)), lrelu()));
  torch::NoGradGuard g;
  for (size_t i : {size_t{0}, size_t{2}}) {
    torch::nn::init::kaiming_normal_(network[i]->as<Conv2d>()->weight, 0.2, torch::kFanIn,
                                     torch::kLeakyReLU);
  }
  proj = register_module("proj", Conv2d(Conv2dOptions(in, out, 1).stride(2)));
}

at::Tensor StridedResidualConvBlockImpl::forward(const at::Tensor& x) {
  return (network->forward(x) + proj->forward(x)) / std::sqrt(2.0);
}

at::Tensor append_minibatch_std(const at::Tensor& x, int64_t group) {
  const int64_t b = x.size(0);
  int64_t g = std::max<int64_t>(1, std::min(group, b));
  while (b % g != 0) --g;
  // (g, b/g, C, H, W): the std is taken over dim 0, across images b/g apart.
  at::Tensor y = x.reshape({g, b / g, x.size(1), x.size(2), x.size(3)});
  y = (y - y.mean(0, true)).square().mean(0);            // (b/g, C, H, W): the group's variance
  y = (y + 1e-8).sqrt().mean({1, 2, 3});                 // (b/g): one spread per group
  y = y.repeat({g}).reshape({b, 1, 1, 1}).expand({b, 1, x.size(2), x.size(3)});
  return at::cat({x, y}, 1);
}

ProgressiveEncoderDiscriminatorImpl::ProgressiveEncoderDiscriminatorImpl(DiscriminatorShape shape)
    : shape(shape) {
  const int64_t max_channels = shape.max_channels;
  const int64_t io[8][2] = {{16, 32},   {32, 64},   {64, 128},  {128, 256},
                            {256, 400}, {400, 400}, {400, 400}, {400, 400}};
  const auto cap = [&](int64_t c) { return capped(c, max_channels); };
  for (auto& p : io) layers->push_back(ResidualCoordConvBlock(cap(p[0]), cap(p[1])));
  for (int64_t c : {16, 32, 64, 128, 256, 400, 400, 400, 400}) fromRGB->push_back(AdapterBlock(cap(c)));
  register_module("layers", layers);
  register_module("fromRGB", fromRGB);
  const int64_t extra = shape.minibatch_std_group > 0 ? 1 : 0;
  final_layer = register_module("final_layer", Conv2d(Conv2dOptions(cap(400) + extra, 1 + 256 + 2, 2)));
}

DiscriminatorOutput ProgressiveEncoderDiscriminatorImpl::forward(const at::Tensor& img,
                                                                 double alpha) {
  const int64_t start = start_index(img, 512, 9, "ProgressiveEncoderDiscriminator");
  at::Tensor x = fromRGB[start]->as<AdapterBlock>()->forward(img);
  for (int64_t i = start; i < static_cast<int64_t>(layers->size()); ++i) {
    if (i == start + 1) {
      // Always blended, even at alpha 1 (the reference computes it regardless).
      x = alpha * x +
          (1 - alpha) * fromRGB[start + 1]->as<AdapterBlock>()->forward(nearest_half(img));
    }
    x = layers[i]->as<ResidualCoordConvBlock>()->forward(x);
  }
  if (shape.minibatch_std_group > 0) x = append_minibatch_std(x, shape.minibatch_std_group);
  at::Tensor out = final_layer->forward(x).reshape({x.size(0), -1});
  return {out.slice(1, 0, 1), out.slice(1, 1, 257), out.slice(1, 257, 259)};
}

StridedDiscriminatorImpl::StridedDiscriminatorImpl(DiscriminatorShape shape) : shape(shape) {
  const int64_t max_channels = shape.max_channels;
  const int64_t io[7][2] = {{32, 64},   {64, 128},  {128, 256}, {256, 400},
                            {400, 400}, {400, 400}, {400, 400}};
  const auto cap = [&](int64_t c) { return capped(c, max_channels); };
  for (auto& p : io) layers->push_back(StridedResidualConvBlock(cap(p[0]), cap(p[1])));
  for (int64_t c : {32, 64, 128, 256, 400, 400, 400, 400}) fromRGB->push_back(AdapterBlock(cap(c)));
  register_module("layers", layers);
  register_module("fromRGB", fromRGB);
  const int64_t extra = shape.minibatch_std_group > 0 ? 1 : 0;
  final_layer = register_module("final_layer", Conv2d(Conv2dOptions(cap(400) + extra, 1, 2)));
  pose_layer = register_module("pose_layer", Linear(2, cap(400)));
}

DiscriminatorOutput StridedDiscriminatorImpl::forward(const at::Tensor& img, double alpha) {
  const int64_t start = start_index(img, 256, 8, "StridedDiscriminator");
  at::Tensor x = fromRGB[start]->as<AdapterBlock>()->forward(img);
  for (int64_t i = start; i < static_cast<int64_t>(layers->size()); ++i) {
    if (i == start + 1 && alpha < 1) {
      x = alpha * x +
          (1 - alpha) * fromRGB[start + 1]->as<AdapterBlock>()->forward(nearest_half(img));
    }
    x = layers[i]->as<StridedResidualConvBlock>()->forward(x);
  }
  if (shape.minibatch_std_group > 0) x = append_minibatch_std(x, shape.minibatch_std_group);
  return {final_layer->forward(x).reshape({x.size(0), 1}), {}, {}};
}

double fade_in_alpha(int64_t step, int64_t last_upsample_step, int64_t fade_steps) {
  return std::min(1.0, static_cast<double>(step - last_upsample_step) /
                           static_cast<double>(fade_steps));
}

}  // namespace sg::model
