#include "train/samples.h"

#include <torch/torch.h>

#include <cstring>

#include "data/codec.h"
#include "data/image.h"
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

std::string sample_grid_png(model::Generator& G, const SampleInputs& in, model::RenderOptions opt, int64_t size) {
  torch::NoGradGuard ng;
  opt.img_size = size;
  opt.camera.h_stddev = 0;
  opt.camera.v_stddev = 0;
  opt.camera.dist = model::CameraDist::fixed;
  model::Draws draws = model::seeded_draws(in.seed);
  const auto dev = G->parameters().front().device();
  const int64_t n = in.z.size(0);
  std::vector<at::Tensor> rows;
  auto out = G->staged_forward(in.z.to(dev), in.light.to(dev), opt, draws);
  auto unit = [](const at::Tensor& x) { return ((x + 1) / 2).clamp(0, 1); };  // [-1,1] -> [0,1]
  auto grey = [&](at::Tensor x) {
    const at::Tensor lo = x.amin(), hi = x.amax();
    x = (x - lo) / (hi - lo).clamp_min(1e-8);
    return x.unsqueeze(1).expand({-1, 3, -1, -1});
  };
  rows.push_back(unit(out.rgb));
  if (out.albedo.defined()) rows.push_back(unit(out.albedo));
  if (out.shading.defined()) rows.push_back(grey(out.shading));
  rows.push_back(grey(out.depth));
  data::Image img(static_cast<int>(n * size), static_cast<int>(rows.size() * size));
  for (size_t r = 0; r < rows.size(); ++r) {
    // (n, 3, S, S) -> (S, n, S, 3) bytes, one row band of the grid.
    at::Tensor band = (rows[r].to(at::kCPU).permute({2, 0, 3, 1}).contiguous() * 255 + 0.5).clamp(0, 255).to(at::kByte);
    std::memcpy(img.rgb.data() + r * static_cast<size_t>(size * n * size * 3), band.data_ptr(),
                static_cast<size_t>(band.numel()));
  }
  return data::encode_png(img);
}

}  // namespace sg::train
