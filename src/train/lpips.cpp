#include "train/lpips.h"

#include <fmt/format.h>

#include <filesystem>
#include <system_error>

#include "core/error.h"
#include "weights/state_dict.h"
#include "weights/torch_hub.h"

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

// `source` names the file(s) in messages.
Lpips lpips_from(const weights::StateDict& sd, const std::string& source) {
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
    problems.push_back(names.back() + ": missing");
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
    std::string msg = source + ": not LPIPS-VGG weights (torchvision's VGG16 features.N.* or lpips' "
                               "net.sliceK.N.*, plus the v0.1 heads lin0..lin4.model.1.weight):";
    for (const auto& p : problems) msg += "\n  " + p;
    throw FormatError(msg);
  }
  return net;
}

bool is_file(const std::string& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec);
}

// The five layer terms (B) each, in order.
std::vector<at::Tensor> layer_terms(const Lpips& net, const at::Tensor& x, const at::Tensor& y) {
  const auto opts = x.options();
  const at::Tensor shift = at::tensor({-.030f, -.088f, -.188f}, opts).view({1, 3, 1, 1});
  const at::Tensor scale = at::tensor({.458f, .448f, .450f}, opts).view({1, 3, 1, 1});
  const int64_t B = x.size(0);
  // Both images through VGG as one batch: the same per-image convolutions as two calls (the
  // fixture measured this formulation against the reference's within float noise), half the calls.
  at::Tensor h = (at::cat({x, y}, 0) - shift) / scale;
  std::vector<at::Tensor> terms;
  const auto& convs = vgg16_convs();
  for (size_t i = 0; i < convs.size(); ++i) {
    if (i > 0 && slice_of(convs[i].index) != slice_of(convs[i - 1].index)) h = at::max_pool2d(h, {2, 2}, {2, 2});
    h = at::relu(at::conv2d(h, net.conv_w[i].to(opts.device()), net.conv_b[i].to(opts.device()), 1, 1));
    const bool last_of_slice = i + 1 == convs.size() || slice_of(convs[i + 1].index) != slice_of(convs[i].index);
    if (!last_of_slice) continue;
    const at::Tensor f = h / (at::sqrt((h * h).sum(1, true)) + 1e-10);
    const at::Tensor d = (f.slice(0, 0, B) - f.slice(0, B, 2 * B)).pow(2);
    const size_t layer = terms.size();
    // (B, 1, H, W) -> spatial mean -> (B): the reference's mean over [2, 3].
    terms.push_back(at::conv2d(d, net.lin[layer].to(opts.device())).mean({2, 3}).view({B}));
  }
  return terms;
}

}  // namespace

LpipsLookup find_lpips_weights(const LpipsWeightFiles& named) {
  auto check_named = [](const std::string& path, const char* option) {
    if (!path.empty() && !is_file(path))
      throw ConfigError(fmt::format("{}: '{}' does not exist or is not a file", option, path));
  };
  check_named(named.combined, "lpips_weights");
  check_named(named.backbone, "lpips_backbone");
  check_named(named.heads, "lpips_heads");
  if (!named.combined.empty() && (!named.backbone.empty() || !named.heads.empty()))
    throw ConfigError("lpips_weights (one combined file) and lpips_backbone / lpips_heads (two files) exclude "
                      "each other: name one or the other");
  LpipsLookup r;
  r.files = named;
  if (!named.combined.empty()) return r;
  if (r.files.backbone.empty()) r.files.backbone = weights::find_in_torch_hub({kVggBackboneFile}, &r.tried);
  if (r.files.heads.empty()) r.files.heads = weights::find_in_torch_hub({kLpipsHeadsFile}, &r.tried);
  return r;
}

std::string lpips_missing_message(const std::string& curriculum_file, const LpipsLookup& lookup) {
  const LpipsWeightFiles& f = lookup.files;
  std::string looked;
  auto half = [&](const std::string& found, const char* what, const char* file, const char* option) {
    const std::string cached = (std::filesystem::path(weights::torch_hub_checkpoints_dir()) / file).string();
    looked += fmt::format("\n  {} ({}): {}", what, file,
                          found.empty() ? fmt::format("not found (not named with {}, no {})", option, cached)
                                        : "found at " + found);
  };
  half(f.backbone, "backbone, torchvision's ImageNet VGG16", kVggBackboneFile, "--lpips-backbone");
  half(f.heads, "heads, LPIPS v0.1 linear layers", kLpipsHeadsFile, "--lpips-heads");
  return fmt::format(
      "{}: depth_loss = \"l1+lpips\" (the reference's depth loss, the default) needs LPIPS-VGG weights, which are "
      "never downloaded:{}\n"
      "Provide them with --lpips-backbone FILE --lpips-heads FILE (train options lpips_backbone, lpips_heads; or "
      "one combined state dict with --lpips-weights), or copy them into {} (torch's cache: TORCH_HOME, default "
      "~/.cache/torch; vgg.pth ships with the lpips package as lpips/weights/v0.1/vgg.pth), or set depth_loss = "
      "\"l1\" in the curriculum (or --set depth_loss=l1) to train the depth loss's L1 term alone.",
      curriculum_file, looked, weights::torch_hub_checkpoints_dir());
}

Lpips load_lpips(const std::string& combined) { return lpips_from(weights::read_state_dict(combined), combined); }

Lpips load_lpips(const LpipsWeightFiles& files) {
  if (!files.combined.empty()) return load_lpips(files.combined);
  if (files.backbone.empty() || files.heads.empty())
    throw ConfigError("LPIPS needs both a backbone (" + std::string(kVggBackboneFile) + ") and heads (" +
                      kLpipsHeadsFile + ")");
  weights::StateDict sd = weights::read_state_dict(files.backbone);
  for (auto& kv : weights::read_state_dict(files.heads)) sd.push_back(std::move(kv));
  return lpips_from(sd, files.backbone + " + " + files.heads);
}

at::Tensor lpips_per_layer(const Lpips& net, const at::Tensor& x, const at::Tensor& y) {
  return at::stack(layer_terms(net, x, y), 1);
}

at::Tensor lpips_distance(const Lpips& net, const at::Tensor& x, const at::Tensor& y) {
  const std::vector<at::Tensor> terms = layer_terms(net, x, y);
  at::Tensor total = terms[0];
  for (size_t k = 1; k < terms.size(); ++k) total = total + terms[k];
  return total;
}

}  // namespace sg::train
