// What one Adam step of the shape inversion costs per choice of normals (eval's shape_normals,
// issue 23): density (the reference's per-sample normals, a double backward every step), depth
// (the depth map's normals) and every:K (density every K-th step, held between), beside pi-GAN's
// step (no shading: no normals at all), on the demo / compare_shadegan-sized generator at the
// shape_compare eval's settings (16 px, 12 samples per ray + 12 fine, batches of 4).
//
// The machine is shared: the parts run interleaved, once each per round (order reversed every
// other round), each reports the median of its rounds, and the table gives ratios to density
// measured in this one run. A part is one inversion call of `--steps` steps; the final render
// every call ends with is timed alone (0 steps, per generator) and subtracted.
//   ninja -C build bench_inversion && build/tests/bench/bench_inversion [--reps 5] [--steps 8]
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "interleave.h"
#include "metrics/shape_inversion.h"
#include "model/draws.h"
#include "model/generator.h"

using namespace sg;
using namespace sg::bench;

namespace {

std::vector<double> loads;  // 1-minute load average before every round

// configs/compare_shadegan.toml's (and demo.toml's) generator: widths 64, surface net nf 8 at 64.
model::GeneratorConfig compare_config(bool shading) {
  model::GeneratorConfig c = shading ? model::GeneratorConfig{} : model::GeneratorConfig::pigan();
  c.hidden_dim = 64;
  c.map_hidden_dim = 64;
  c.surface_nf = 8;
  c.surface_size = 64;
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = std::atoi(arg(argc, argv, "--reps", "5"));
  const int64_t steps = std::atoll(arg(argc, argv, "--steps", "8"));
  fmt::print("ATen intra-op threads: {}; load average at start: {:.2f}\n", at::get_num_threads(), load1());
  torch::manual_seed(0);
  model::Generator shadegan(compare_config(true));
  model::Generator pigan(compare_config(false));
  shadegan->eval();
  pigan->eval();
  model::RenderOptions opt;
  opt.img_size = 16;
  opt.num_steps = 12;
  opt.delta = -1;
  const int64_t B = 4;
  const at::Tensor pose = torch::tensor({1.50f, 1.62f}).repeat({B, 1});
  const at::Tensor light = torch::tensor({0.0f, 0.3f, 0.1f, 0.1f}).repeat({B, 1});
  at::Tensor target;
  {
    torch::NoGradGuard ng;
    model::Draws d = model::seeded_draws(1);
    target = shadegan->forward(torch::randn({B, 256}), light, opt, d, pose).rgb;
  }
  auto inversion = [&](model::GeneratorImpl& g, const std::string& normals, int64_t n) {
    metrics::InversionOptions inv;
    inv.steps = n;
    inv.normals = metrics::inversion_normals_from_name(normals);
    return [&g, inv, &target, &pose, &light, &opt] { metrics::invert_generator(g, target, pose, light, opt, inv); };
  };
  inversion(*shadegan, "density", 1)();  // warm-up
  inversion(*pigan, "density", 1)();
  std::vector<Part> parts = {{"render", inversion(*shadegan, "density", 0), {}, {}},
                             {"density", inversion(*shadegan, "density", steps), {}, {}},
                             {"depth", inversion(*shadegan, "depth", steps), {}, {}},
                             {"every:2", inversion(*shadegan, "every:2", steps), {}, {}},
                             {"every:4", inversion(*shadegan, "every:4", steps), {}, {}},
                             {"every:8", inversion(*shadegan, "every:8", steps), {}, {}},
                             {"pigan", inversion(*pigan, "trained", steps), {}, {}},
                             {"pigan render", inversion(*pigan, "trained", 0), {}, {}}};
  fmt::print("\ncompare_shadegan-sized generator, {} images of {} px, {} samples per ray (+{} fine), {} steps per call; "
             "{} interleaved rounds\n", B, opt.img_size, opt.num_steps, opt.num_steps, steps, reps);
  interleave(parts, reps, loads);
  const double w0 = median(parts[0].wall), c0 = median(parts[0].cpu);
  const double wd = (median(parts[1].wall) - w0) / steps, cd = (median(parts[1].cpu) - c0) / steps;
  fmt::print("\nfinal render alone: {:.3f} s wall, {:.3f} s cpu (subtracted)\n", w0, c0);
  fmt::print("\n| shape_normals | wall s per Adam step | cpu s per step | wall ratio to density | cpu ratio |\n"
             "| --- | --- | --- | --- | --- |\n");
  for (size_t k = 1; k + 1 < parts.size(); ++k) {
    const bool pi = parts[k].name == "pigan";  // its own final render subtracted
    const double rw = pi ? median(parts.back().wall) : w0, rc = pi ? median(parts.back().cpu) : c0;
    const double w = (median(parts[k].wall) - rw) / steps, c = (median(parts[k].cpu) - rc) / steps;
    fmt::print("| {} | {:.4f} | {:.4f} | {:.2f} | {:.2f} |\n",
               parts[k].name == "pigan" ? "pi-GAN (no shading)" : parts[k].name, w, c, w / wd, c / cd);
  }
  fmt::print("load average (1 min) over the rounds: min {:.2f}, median {:.2f}, max {:.2f}; {} CPUs\n",
             *std::min_element(loads.begin(), loads.end()), median(loads),
             *std::max_element(loads.begin(), loads.end()), std::thread::hardware_concurrency());
  return 0;
}
