#pragma once
// The two discriminators of spec §5, named as the reference's state dicts
// (layers.0.network.0.conv.weight, fromRGB.3.model.0.weight, final_layer.weight, ...).
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <string>

namespace sg::model {

struct DiscriminatorOutput {
  at::Tensor prediction;  // (B, 1)
  at::Tensor latent;      // (B, 256), progressive encoder only
  at::Tensor position;    // (B, 2) predicted (pitch, yaw), progressive encoder only
};

// Conv 1x1 (3 -> C) + LeakyReLU(0.2), as `model.0`.
struct AdapterBlockImpl : torch::nn::Module {
  explicit AdapterBlockImpl(int64_t channels);
  at::Tensor forward(const at::Tensor& x);
  torch::nn::Sequential model;
};
TORCH_MODULE(AdapterBlock);

// Two coordinate channels (row, then column, each in [-1, 1]) appended before the conv.
struct CoordConvImpl : torch::nn::Module {
  CoordConvImpl(int64_t in, int64_t out, int64_t kernel, int64_t padding);
  at::Tensor forward(const at::Tensor& x);
  torch::nn::Conv2d conv{nullptr};
};
TORCH_MODULE(CoordConv);

struct ResidualCoordConvBlockImpl : torch::nn::Module {
  ResidualCoordConvBlockImpl(int64_t in, int64_t out);  // always downsampling
  at::Tensor forward(const at::Tensor& x);
  torch::nn::Sequential network;
  torch::nn::Conv2d proj{nullptr};
};
TORCH_MODULE(ResidualCoordConvBlock);

struct StridedResidualConvBlockImpl : torch::nn::Module {
  StridedResidualConvBlockImpl(int64_t in, int64_t out);
  at::Tensor forward(const at::Tensor& x);
  torch::nn::Sequential network;
  torch::nn::Conv2d proj{nullptr};
};
TORCH_MODULE(StridedResidualConvBlock);

// Ours, off by default (the curriculum's disc_channels and disc_minibatch_std, configs/README.md).
struct DiscriminatorShape {
  // Caps every width (16 ... 400) at this value, parameter names unchanged; 0 keeps the
  // reference's widths.
  int64_t max_channels = 0;
  // ProGAN's minibatch standard deviation: the spread of the last features over groups of this
  // many images is one more input channel of final_layer, so the discriminator can see a batch
  // whose images are all alike (a generator that ignores its latent). 0: the reference's head.
  int64_t minibatch_std_group = 0;
};

// x (B, C, H, W) -> (B, C + 1, H, W): the last channel is, for every image, the mean over
// channels and pixels of the standard deviation across its group. Groups are the largest divisor
// of B not above `group` (so any batch works), image i sharing a group with i + B/groupsize, ...
at::Tensor append_minibatch_std(const at::Tensor& x, int64_t group);

// CelebA / BFM: 259-way head (prediction, latent, position); fade-in always blended.
struct ProgressiveEncoderDiscriminatorImpl : torch::nn::Module {
  explicit ProgressiveEncoderDiscriminatorImpl(DiscriminatorShape shape = {});
  // img (B, 3, S, S) in [-1, 1], S a power of two in [2, 512]; alpha the fade-in factor.
  DiscriminatorOutput forward(const at::Tensor& img, double alpha);
  torch::nn::ModuleList layers, fromRGB;
  torch::nn::Conv2d final_layer{nullptr};
  DiscriminatorShape shape;
};
TORCH_MODULE(ProgressiveEncoderDiscriminator);

// Cats: strided blocks, 1-way head; fade-in blended only while alpha < 1.
struct StridedDiscriminatorImpl : torch::nn::Module {
  explicit StridedDiscriminatorImpl(DiscriminatorShape shape = {});
  // S a power of two in [2, 256].
  DiscriminatorOutput forward(const at::Tensor& img, double alpha);
  torch::nn::ModuleList layers, fromRGB;
  torch::nn::Conv2d final_layer{nullptr};
  torch::nn::Linear pose_layer{nullptr};  // present in the state dict, never used (spec §5.2)
  DiscriminatorShape shape;
};
TORCH_MODULE(StridedDiscriminator);

// The fade-in factor min(1, (step - last_upsample_step) / fade_steps) (spec §6.3).
double fade_in_alpha(int64_t step, int64_t last_upsample_step, int64_t fade_steps);

}  // namespace sg::model
