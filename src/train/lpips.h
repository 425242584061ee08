#pragma once
// LPIPS v0.1 "lin" with VGG16 (spec §6.2), the perceptual half of the surface net's depth loss,
// frozen. Its weights cannot be downloaded here, so they come from a file the user names: a
// state dict (torch.save) holding the VGG16 convolutions either as the lpips package saves them
// (net.slice1.0.weight ... net.slice5.28.bias) or as torchvision does (features.0.weight ...
// features.28.bias), plus the five linear heads lin0.model.1.weight ... lin4.model.1.weight
// (shapes (1, C, 1, 1), C = 64, 128, 256, 512, 512). Without such a file the depth loss is the
// L1 term alone (the trainer says so in its log).
#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace sg::train {

struct Lpips {
  std::vector<at::Tensor> conv_w, conv_b;  // the 13 VGG16 convolutions, in order
  std::vector<at::Tensor> lin;             // 5 heads (1, C, 1, 1)
  bool defined() const { return !lin.empty(); }
};

// FormatError naming the file and every missing or misshapen key.
Lpips load_lpips(const std::string& path);

// Per-image distance (B) between x and y (B, 3, H, W) in [-1, 1]; differentiable in both.
at::Tensor lpips_distance(const Lpips& net, const at::Tensor& x, const at::Tensor& y);

// The VGG16 feature indices of the 13 convolutions and their (out, in) channels.
struct VggConv {
  int index, out, in;
};
const std::vector<VggConv>& vgg16_convs();

}  // namespace sg::train
