#include "train/samples.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "data/codec.h"
#include "data/image.h"
#include "data/raster_text.h"
#include "model/shading.h"

namespace sg::train {

SampleInputs fixed_sample_inputs(int64_t n, int64_t z_dim, const model::LightPrior& prior, uint64_t seed) {
  model::Draws d = model::seeded_draws(seed);
  SampleInputs s;
  s.z = d.normal(model::Draw::latent, {n, z_dim});
  s.light = model::sample_light(prior, n, d);
  s.seed = seed + 1;
  return s;
}

namespace {

// Mean of `x` (B, S, S) over the pixels where `region` (S, S) is true; NaN for an empty region.
double region_mean(const at::Tensor& x, const at::Tensor& region) {
  const int64_t count = region.sum().item<int64_t>();
  if (count == 0) return NAN;
  return (x * region.to(x.dtype())).sum().item<double>() / double(count * x.size(0));
}

}  // namespace

SampleGrid sample_grid(model::Generator& G, const SampleInputs& in, model::RenderOptions opt, int64_t size,
                       int64_t step, const at::Tensor& silhouette) {
  torch::NoGradGuard ng;
  opt.img_size = size;
  opt.camera.h_stddev = 0;
  opt.camera.v_stddev = 0;
  opt.camera.dist = model::CameraDist::fixed;
  model::Draws draws = model::seeded_draws(in.seed);
  const auto dev = G->parameters().front().device();
  const int64_t n = in.z.size(0);
  std::vector<at::Tensor> rows;
  std::vector<std::string> names;
  auto out = G->staged_forward(in.z.to(dev), in.light.to(dev), opt, draws);  // keeps the weights
  SampleStats stats;
  const at::Tensor opacity = out.weights.sum({2, 3}).reshape({n, size, size}).to(at::kCPU).to(at::kDouble);
  stats.opacity_mean = opacity.mean().item<double>();
  if (silhouette.defined()) {
    const at::Tensor cover = silhouette.to(at::kCPU).to(at::kDouble);
    stats.opacity_in = region_mean(opacity, cover >= kInsideCover);
    stats.opacity_out = region_mean(opacity, cover <= kOutsideCover);
  }
  auto unit = [](const at::Tensor& x) { return ((x + 1) / 2).clamp(0, 1); };  // [-1,1] -> [0,1]
  auto grey = [&](at::Tensor x) {
    const at::Tensor lo = x.amin(), hi = x.amax();
    x = (x - lo) / (hi - lo).clamp_min(1e-8);
    return x.unsqueeze(1).expand({-1, 3, -1, -1});
  };
  rows.push_back(unit(out.rgb));
  names.push_back("rgb");
  if (out.albedo.defined()) {
    rows.push_back(unit(out.albedo));
    names.push_back("albedo");
  }
  if (out.shading.defined()) {
    // On a fixed scale, 0 black to 2 white (ambient + diffuse, each at most 1), so 1, the shade
    // that leaves the albedo as it is, is mid-grey: before the shading warm-up (l_ratio 0) the
    // shade is exactly 1, which min-max scaling drew as a black row that looked like a fault.
    rows.push_back((out.shading / 2).clamp(0, 1).unsqueeze(1).expand({-1, 3, -1, -1}));
    names.push_back("shading");
  }
  rows.push_back(grey(out.depth));
  names.push_back("depth");
  // On its fixed scale, 0 black (empty) to 1 white (opaque): fog shows as an even grey, an
  // object as a white shape on black.
  rows.push_back(opacity.clamp(0, 1).to(at::kFloat).unsqueeze(1).expand({-1, 3, -1, -1}));
  names.push_back("opacity");

  // The text scale ts grows with the tiles (2 from 256 px) so text stays readable next to them;
  // below the height of a capital there is no room for a row name, and no label column is drawn.
  const int ts = static_cast<int>(std::max<int64_t>(1, size / 128)), pad = 6 * ts;
  const bool labelled = size >= data::kCapHeight * ts;
  int label_w = 0;
  if (labelled)
    for (const auto& name : names) label_w = std::max(label_w, data::ink_width(name, ts) + 2 * pad);
  const int grid_w = static_cast<int>(n * size), w = label_w + grid_w;
  std::string title;
  for (std::string t : {"EMA samples, step " + std::to_string(step), "step " + std::to_string(step)})
    if (title.empty() && data::ink_width(t, ts) + 2 * pad <= w) title = t;
  const int title_h = title.empty() ? 0 : data::kLineHeight * ts + pad;

  data::Image img(w, title_h + static_cast<int>(rows.size() * size));
  std::fill(img.rgb.begin(), img.rgb.end(), 255);
  const uint8_t ink[3] = {40, 40, 40};
  if (!title.empty()) data::draw_text(img, pad, pad / 2 + ts, title, ink, ts);
  for (size_t r = 0; r < rows.size(); ++r) {
    // (n, 3, S, S) -> (S, n, S, 3) bytes, S = size: each image row of this band is one contiguous run.
    at::Tensor band = (rows[r].to(at::kCPU).permute({2, 0, 3, 1}).contiguous() * 255 + 0.5).clamp(0, 255).to(at::kByte);
    const uint8_t* src = band.data_ptr<uint8_t>();
    const int y0 = title_h + static_cast<int>(r * size);
    for (int y = 0; y < size; ++y)
      std::memcpy(img.px(label_w, y0 + y), src + static_cast<size_t>(y) * grid_w * 3, static_cast<size_t>(grid_w) * 3);
    // The name right-aligned against its row, centred on the row's height.
    if (labelled)
      data::draw_text(img, label_w - pad - data::ink_width(names[r], ts),
                      y0 + static_cast<int>(size - data::kCapHeight * ts) / 2, names[r], ink, ts);
  }
  return {data::encode_png(img), stats};
}

double density_scale(model::Generator& G) {
  torch::NoGradGuard ng;
  const auto& head = G->siren->final_layer;
  // Times the density gain (ours; 1 in the reference): the bound is on what the head outputs.
  return G->siren->cfg.density_gain * (head->weight.abs().sum() + head->bias.abs().sum()).item<double>();
}

}  // namespace sg::train
