#pragma once
// LPIPS v0.1 "lin" with VGG16 (spec §6.2), the perceptual half of the surface net's depth loss
// (curriculum key depth_loss = "l1+lpips"), frozen. Its weights are never downloaded; they come
// from files researchers already have:
//   backbone  torchvision's ImageNet VGG16, vgg16-397923af.pth (features.0.weight ...
//             features.28.bias; the classifier.* keys are ignored),
//   heads     LPIPS's v0.1 linear heads, vgg.pth (lin0.model.1.weight ... lin4.model.1.weight,
//             shapes (1, C, 1, 1), C = 64, 128, 256, 512, 512),
// or one combined state dict holding both (the convolutions under lpips' own names
// net.slice1.0.weight ... net.slice5.28.bias or torchvision's). When not named, the two files are
// looked up in torch's cache ($TORCH_HOME/hub/checkpoints, weights/torch_hub.h).
// Checked number for number against the reference in tests/train/lpips_test.cpp.
#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace sg::train {

struct Lpips {
  std::vector<at::Tensor> conv_w, conv_b;  // the 13 VGG16 convolutions, in order
  std::vector<at::Tensor> lin;             // 5 heads (1, C, 1, 1)
  bool defined() const { return !lin.empty(); }
};

// The file names torch's cache holds them under.
inline constexpr const char* kVggBackboneFile = "vgg16-397923af.pth";
inline constexpr const char* kLpipsHeadsFile = "vgg.pth";

// Where the weights come from: `combined` alone, or `backbone` and `heads`.
struct LpipsWeightFiles {
  std::string combined;  // train option lpips_weights
  std::string backbone;  // train option lpips_backbone
  std::string heads;     // train option lpips_heads
  bool complete() const { return !combined.empty() || (!backbone.empty() && !heads.empty()); }
};

struct LpipsLookup {
  LpipsWeightFiles files;           // what was found; complete() says whether LPIPS can run
  std::vector<std::string> tried;   // every cache path looked at, for messages
};

// Named files win (a named path that is not a file is a ConfigError naming its option; combined
// with backbone or heads is one too); a half not named is looked up in torch's cache.
LpipsLookup find_lpips_weights(const LpipsWeightFiles& named);

// Why "l1+lpips" cannot run with what `lookup` found: names the key depth_loss and
// `curriculum_file`, the paths looked at, and the ways to provide the weights or opt out.
std::string lpips_missing_message(const std::string& curriculum_file, const LpipsLookup& lookup);

// FormatError naming the file(s) and every missing or misshapen key.
Lpips load_lpips(const std::string& combined);
Lpips load_lpips(const LpipsWeightFiles& files);

// Per-image distance (B) between x and y (B, 3, H, W) in [-1, 1]; differentiable in both. The
// five layer terms are summed in order relu1_2 .. relu5_3, as the reference does.
at::Tensor lpips_distance(const Lpips& net, const at::Tensor& x, const at::Tensor& y);
// The five terms themselves (B, 5), for locating a mismatch.
at::Tensor lpips_per_layer(const Lpips& net, const at::Tensor& x, const at::Tensor& y);

// The VGG16 feature indices of the 13 convolutions and their (out, in) channels.
struct VggConv {
  int index, out, in;
};
const std::vector<VggConv>& vgg16_convs();

}  // namespace sg::train
