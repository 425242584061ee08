#pragma once
// A feature map for comparing image distributions that needs no downloaded weights: three
// convolution layers whose filters are drawn from a fixed seed (data::Rng, so every machine
// draws the same numbers), with ReLU and average pooling, plus the colour layout of the image.
// Random convolutional features are a known stand-in for trained ones when only the
// distribution distance matters (the image statistics they see are local contrast at three
// scales and where it sits); they cannot name objects, which the synthetic set does not need.
//
// The map, on (B, 3, H, W) images in [-1, 1] (H = W >= 8):
//   x  <- area-averaged down to 32 px when larger (so 64 and 128 px evals see the same scales)
//   colour layout   adaptive average of x to 4x4                       48 values
//   c1 = relu(conv3x3(x, 3 -> 32))       L2-pooled to 4x4              512 values
//   c2 = relu(conv3x3(avgpool2(c1), 32 -> 64))   L2-pooled to 2x2      256 values
//   c3 = relu(conv3x3(avgpool2(c2), 64 -> 128))  L2-pooled to 1x1      128 values
// (L2 pooling: the root of the mean square over each cell, which sees sharpness; see the .cpp)
// Convolutions pad by replicating the border, and every filter sums to zero, so a flat region
// (the black background above all) gives exactly 0: the features answer "where is there
// structure, and of what kind", not "what is the padding". Each filter has L2 norm sqrt(2) (He's
// scale for ReLU), so activations keep the input's magnitude through the layers. Each block is
// scaled by sqrt(D / (4 d_block)) (D = 944 the total width), so in KID's kernel x.y / D every
// block counts equally whatever its width.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace sg::metrics {

// The seed every machine uses; changing it changes every kid_random_features ever reported.
constexpr uint64_t kRandomFeatureSeed = 20261207;
constexpr int64_t kRandomFeatureWidth = 48 + 512 + 256 + 128;
constexpr int64_t kRandomFeatureMaxSize = 32;

struct RandomFeatureMap {
  uint64_t seed = kRandomFeatureSeed;
  std::vector<at::Tensor> filters;  // (32, 3, 3, 3), (64, 32, 3, 3), (128, 64, 3, 3), float32
};

// The filters for `seed`: layer l's entries are Rng(seed, l, 0).normal() in (out, in, kh, kw)
// order, then each output filter has its mean subtracted and is scaled to norm sqrt(2).
RandomFeatureMap make_random_feature_map(uint64_t seed = kRandomFeatureSeed);

// (B, kRandomFeatureWidth) float32 features of (B, 3, H, W) images in [-1, 1]. No grad.
// FormatError for another shape or H < 8.
at::Tensor random_features(const RandomFeatureMap& map, const at::Tensor& images);

}  // namespace sg::metrics
