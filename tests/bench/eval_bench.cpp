// The eval stage's own costs, beside the metric math that bench_metrics measures (FID on
// 10,000 x 2048 against a Denman-Beavers sqrtm, KID 100 x 1000 against float64 loops, FID
// Inception images/s — run it too): per image of the demo-sized generator, what producing the
// fakes, their JPEG round trip, their Inception features and one inversion step cost, measured
// in one run so the ratios say where an eval's time goes.
//   ninja -C build bench_eval && build/tests/bench/bench_eval
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "metrics/eval_images.h"
#include "metrics/fid.h"
#include "metrics/fid_inception.h"
#include "metrics/kid.h"
#include "metrics/shape_inversion.h"
#include "model/draws.h"
#include "model/generator.h"

using namespace sg;

namespace {

template <class F>
double seconds(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void print_blas() {
  std::ifstream maps("/proc/self/maps");
  std::set<std::string> libs;
  for (std::string line; std::getline(maps, line);) {
    const auto slash = line.find('/');
    if (slash != std::string::npos && line.find("blas", slash) != std::string::npos) libs.insert(line.substr(slash));
  }
  for (const auto& l : libs) fmt::print("blas mapped: {}\n", l);
  fmt::print("ATen intra-op threads: {}\n", at::get_num_threads());
}

}  // namespace

int main() {
  print_blas();
  torch::manual_seed(0);
  // configs/demo.toml's generator: SIREN and mapping width 64, surface net nf 8 at 64 px.
  model::GeneratorConfig cfg;
  cfg.hidden_dim = 64;
  cfg.map_hidden_dim = 64;
  cfg.surface_nf = 8;
  cfg.surface_size = 64;
  model::Generator g(cfg);
  g->eval();
  model::RenderOptions opt;
  opt.img_size = 32;
  opt.num_steps = 12;
  opt.psi = 1;
  opt.delta = -1;
  const int64_t B = 4;
  model::Draws draws = model::seeded_draws(1);
  const at::Tensor z = torch::randn({B, 256});
  const at::Tensor light = torch::tensor({0.0f, 0.3f, 0.1f, 0.1f}).repeat({B, 1});
  g->staged_forward(z.slice(0, 0, 1), light.slice(0, 0, 1), opt, draws);  // warm-up, averages
  at::Tensor rgb;
  const double t_gen = seconds([&] { rgb = g->staged_forward(z, light, opt, draws).rgb; });
  const at::Tensor u8 = metrics::generator_output_to_uint8(rgb);
  at::Tensor jpg;
  const double t_jpeg = seconds([&] {
    for (int k = 0; k < 25; ++k) jpg = metrics::jpeg_round_trip(u8, 75);
  }) / 25;
  const metrics::FidInception net;
  net.features(jpg.slice(0, 0, 1), metrics::InceptionInput::torch_fidelity);  // warm-up
  const double t_inc = seconds([&] { net.features(jpg, metrics::InceptionInput::torch_fidelity); });
  metrics::InversionOptions inv;
  inv.steps = 3;
  const at::Tensor pose = torch::tensor({1.5708f, 1.5708f}).repeat({B, 1});
  const double t_inv = seconds([&] { metrics::invert_generator(*g, rgb, pose, light, opt, inv); });
  // Per image: the inversion's 3 steps plus its final render; a step is ~ t_inv / 3.
  fmt::print("demo generator, {} images of {} px, {} samples per ray (+{} fine):\n", B, opt.img_size,
             opt.num_steps, opt.num_steps);
  fmt::print("  generate      {:8.3f} s/image  ({:.2f} images/s)\n", t_gen / B, B / t_gen);
  fmt::print("  JPEG q75 trip {:8.5f} s/image  ({:.0f} images/s; ratio to generating {:.4f})\n", t_jpeg / B,
             B / t_jpeg, t_jpeg / t_gen);
  fmt::print("  Inception     {:8.3f} s/image  ({:.2f} images/s; ratio to generating {:.2f})\n", t_inc / B,
             B / t_inc, t_inc / t_gen);
  fmt::print("  inversion     {:8.3f} s/image/step ({} steps + final render: {:.2f} s for {} images; "
             "one step / one generation {:.2f})\n",
             t_inv / B / inv.steps, inv.steps, t_inv, B, (t_inv / inv.steps) / t_gen);
  fmt::print("  => an eval with N fakes and K inversions of M steps costs about "
             "N x {:.2f} s + K x M x {:.2f} s on this machine\n",
             (t_gen + t_jpeg + t_inc) / B, t_inv / B / inv.steps);
  return 0;
}
