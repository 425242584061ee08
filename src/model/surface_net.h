#pragma once
// The surface tracking network ResDecoder (spec §3.2), named as the reference's state dict
// (surfacenet.linear, surfacenet.network.<i>, surfacenet.network.10.conv1, ...).
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

namespace sg::model {

// h = relu(gn1 x); nearest x2 of h and x; h = conv2(relu(gn2(conv1 h))); x = conv_sc(x) when
// the widths differ; x + h.
struct ResBlockImpl : torch::nn::Module {
  ResBlockImpl(int64_t in, int64_t out, bool upsample = true);
  at::Tensor forward(const at::Tensor& x);
  int64_t in_channels, out_channels;
  bool upsample;
  torch::nn::GroupNorm gn1{nullptr}, gn2{nullptr};
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv_sc{nullptr};
};
TORCH_MODULE(ResBlock);

struct ResDecoderImpl : torch::nn::Module {
  // zdim = 18 * hidden (4608 for the official width); nf doubled log2(size) - 6 times.
  ResDecoderImpl(int64_t zdim, int64_t nf = 16, int64_t size = 128, int64_t cout = 2);
  // codes (B, zdim), pose (B, 2) -> (B, cout, size, size) after the sigmoid.
  at::Tensor forward(const at::Tensor& codes, const at::Tensor& pose);
  torch::nn::Linear linear{nullptr};
  torch::nn::Sequential network;
};
TORCH_MODULE(ResDecoder);

}  // namespace sg::model
