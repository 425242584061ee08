#include "train/lpips.h"

#include <fmt/format.h>

#include "core/error.h"
#include "weights/state_dict.h"

namespace sg::train {

const std::vector<VggConv>& vgg16_convs() {
  static const std::vector<VggConv> convs = {
      {0, 64, 3},    {2, 64, 64},   {5, 128, 64},  {7, 128, 128}, {10, 256, 128},
      {12, 256, 256}, {14, 256, 256}, {17, 512, 256}, {19, 512, 512}, {21, 512, 512},
      {24, 512, 512}, {26, 512, 512}, {28, 512, 512}};
  return convs;
}

namespace {

// lpips' vgg16 splits features into slices ending after relu1_2, relu2_2, relu3_3, relu4_3,
// relu5_3: [0,4), [4,9), [9,16), [16,23), [23,30).
int slice_of(int index) {
  if (index < 4) return 1;
  if (index < 9) return 2;
  if (index < 16) return 3;
  if (index < 23) return 4;
  return 5;
}

}  // namespace

Lpips load_lpips(const std::string& path) {
  const weights::StateDict sd = weights::read_state_dict(path);
  Lpips net;
  std::vector<std::string> problems;
  auto get = [&](const std::vector<std::string>& names, std::vector<int64_t> shape) -> at::Tensor {
    for (const std::string& n : names) {
      if (const at::Tensor* t = weights::find_tensor(sd, n)) {
        if (t->sizes() != at::IntArrayRef(shape)) {
          problems.push_back(fmt::format("{}: shape {}, expected {}", n, c10::str(t->sizes()),
                                         c10::str(at::IntArrayRef(shape))));
          return {};
        }
        return t->to(at::kFloat).contiguous();
      }
    }
    problems.push_back(names.front() + ": missing");
    return {};
  };
  for (const VggConv& c : vgg16_convs()) {
    const std::string a = fmt::format("net.slice{}.{}.", slice_of(c.index), c.index);
    const std::string b = fmt::format("features.{}.", c.index);
    net.conv_w.push_back(get({a + "weight", b + "weight"}, {c.out, c.in, 3, 3}));
    net.conv_b.push_back(get({a + "bias", b + "bias"}, {c.out}));
  }
  const int64_t widths[5] = {64, 128, 256, 512, 512};
  for (int k = 0; k < 5; ++k) net.lin.push_back(get({fmt::format("lin{}.model.1.weight", k)}, {1, widths[k], 1, 1}));
  if (!problems.empty()) {
    std::string msg = path + ": not LPIPS-VGG weights (lpips' net.sliceK.N.* or torchvision's features.N.*, plus "
                             "lin0..lin4.model.1.weight):";
    for (const auto& p : problems) msg += "\n  " + p;
    throw FormatError(msg);
  }
  return net;
}

at::Tensor lpips_distance(const Lpips& net, const at::Tensor& x, const at::Tensor& y) {
  const auto opts = x.options();
  const at::Tensor shift = at::tensor({-.030f, -.088f, -.188f}, opts).view({1, 3, 1, 1});
  const at::Tensor scale = at::tensor({.458f, .448f, .450f}, opts).view({1, 3, 1, 1});
  const int64_t B = x.size(0);
  // Both images through VGG in one batch.
  at::Tensor h = (at::cat({x, y}, 0) - shift) / scale;
  at::Tensor total = at::zeros({B}, opts);
  int layer = 0;
  const auto& convs = vgg16_convs();
  for (size_t i = 0; i < convs.size(); ++i) {
    if (i > 0 && slice_of(convs[i].index) != slice_of(convs[i - 1].index)) h = at::max_pool2d(h, {2, 2}, {2, 2});
    h = at::relu(at::conv2d(h, net.conv_w[i].to(opts.device()), net.conv_b[i].to(opts.device()), 1, 1));
    const bool last_of_slice = i + 1 == convs.size() || slice_of(convs[i + 1].index) != slice_of(convs[i].index);
    if (!last_of_slice) continue;
    at::Tensor f = h / (at::sqrt((h * h).sum(1, true)) + 1e-10);
    at::Tensor d = (f.slice(0, 0, B) - f.slice(0, B, 2 * B)).pow(2);
    total = total + at::conv2d(d, net.lin[layer].to(opts.device())).mean({1, 2, 3});
    ++layer;
  }
  return total;
}

}  // namespace sg::train
