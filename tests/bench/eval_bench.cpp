// The eval stage's own costs, beside the metric math that bench_metrics measures (FID on
// 10,000 x 2048 against a Denman-Beavers sqrtm, KID 100 x 1000 against a plain float64 loop,
// FID Inception images/s — run it too): per image of the demo-sized generator, what producing
// the fakes, their JPEG round trip, their Inception features (seeded weights) and one inversion
// step cost, measured in one run so the ratios say where an eval's time goes.
//
// The machine is shared (2 vCPUs, builds and training running): the four parts run interleaved,
// once each per round (order flipped every other round), and each reports the median of its
// rounds; the 1-minute load average is printed before every round and summarised.
//   ninja -C build bench_eval && build/tests/bench/bench_eval [--reps 3]
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <functional>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "interleave.h"
#include "inception_weights.h"
#include "metrics/eval_images.h"
#include "metrics/fid.h"
#include "metrics/fid_inception.h"
#include "metrics/kid.h"
#include "metrics/shape_inversion.h"
#include "model/draws.h"
#include "model/generator.h"

using namespace sg;
using namespace sg::bench;

namespace {

std::vector<double> loads;  // 1-minute load average before every round

void print_blas() {
  for (const auto& l : mapped_libraries({"blas"})) fmt::print("blas mapped: {}\n", l);
  fmt::print("ATen intra-op threads: {}\n", at::get_num_threads());
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = std::atoi(arg(argc, argv, "--reps", "3"));
  print_blas();
  fmt::print("load average at start: {:.2f}\n", load1());
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
  // Inputs of the later parts made once up front, so every part can run first in a round.
  at::Tensor rgb = g->staged_forward(z, light, opt, draws).rgb;
  const at::Tensor u8 = metrics::generator_output_to_uint8(rgb);
  at::Tensor jpg = metrics::jpeg_round_trip(u8, 75);
  metrics::FidInception net;
  seeded_inception_weights(net, 2015);
  net.features(jpg.slice(0, 0, 1), metrics::InceptionInput::torch_fidelity);  // warm-up
  metrics::InversionOptions inv;
  inv.steps = 3;
  const at::Tensor pose = torch::tensor({1.5708f, 1.5708f}).repeat({B, 1});
  const int jpeg_loops = 25;  // one round trip is too short to time alone
  std::vector<Part> parts = {
      {"generate", [&] { rgb = g->staged_forward(z, light, opt, draws).rgb; }, {}, {}},
      {"jpeg", [&] {
         for (int k = 0; k < jpeg_loops; ++k) jpg = metrics::jpeg_round_trip(u8, 75);
       }, {}, {}},
      {"inception", [&] { net.features(jpg, metrics::InceptionInput::torch_fidelity); }, {}, {}},
      {"inversion", [&] { metrics::invert_generator(*g, rgb, pose, light, opt, inv); }, {}, {}}};
  fmt::print("\ndemo generator, {} images of {} px, {} samples per ray (+{} fine); {} interleaved rounds\n", B,
             opt.img_size, opt.num_steps, opt.num_steps, reps);
  interleave(parts, reps, loads);
  const double t_gen = median(parts[0].wall), t_jpeg = median(parts[1].wall) / jpeg_loops;
  const double t_inc = median(parts[2].wall), t_inv = median(parts[3].wall);
  // Per image: the inversion's 3 steps plus its final render; a step is ~ t_inv / 3.
  fmt::print("\n| part | median s per image | images/s | ratio to generating |\n| --- | --- | --- | --- |\n");
  fmt::print("| generate | {:.4f} | {:.2f} | 1 |\n", t_gen / B, B / t_gen);
  fmt::print("| JPEG q75 round trip | {:.5f} | {:.0f} | {:.4f} |\n", t_jpeg / B, B / t_jpeg, t_jpeg / t_gen);
  fmt::print("| Inception (seeded weights, 32 -> 299 px) | {:.4f} | {:.2f} | {:.2f} |\n", t_inc / B, B / t_inc,
             t_inc / t_gen);
  fmt::print("| inversion, per step ({} steps + final render per call) | {:.4f} | | {:.2f} |\n", inv.steps,
             t_inv / B / inv.steps, (t_inv / inv.steps) / t_gen);
  fmt::print("=> an eval with N fakes and K inversions of M steps costs about "
             "N x {:.3f} s + K x M x {:.3f} s on this machine\n",
             (t_gen + t_jpeg + t_inc) / B, t_inv / B / inv.steps);
  fmt::print("load average (1 min) over the rounds: min {:.2f}, median {:.2f}, max {:.2f}; at the end {:.2f}; {} CPUs\n",
             *std::min_element(loads.begin(), loads.end()), median(loads),
             *std::max_element(loads.begin(), loads.end()), load1(), std::thread::hardware_concurrency());
  return 0;
}
