// Generator throughput on one CPU thread, as ratios measured in one run (issue 5's benchmark):
//  (a) this machine's float32 matmul peak (torch::mm 24576x256 @ 256x256, the SIREN's shape);
//  (b) the training forward (no grad, normals as the reference computes them when shading) and
//      forward+backward through the normal path (double backward), at the CelebA 32 px stage and
//      at configs/demo.toml's size, in points/s and as FLOP utilisation against (a);
//  (c) reference-faithful waste (spec §12) against the fast path;
//  (d) one 128 px staged_forward render with and without surface tracking.
// FLOP model: SIREN multiply-adds per point, counted from the layer shapes (spec §14: 0.53 M at
// width 256): 3h + 7h^2 + h + h(h+7) + 3h. Forward = 2 FLOP per multiply-add. Elementwise work
// (sin, FiLM), the surface net, integration and sampling are not counted. Points per image =
// S^2 * 2N (coarse + fine). For forward+backward two models are printed: 3x forward (first-order
// training, what utilisation usually means) and 8x forward (spec §14's 7-10x estimate for a
// forward with normals plus the double backward); the measured time ratio is printed too.
// Build: ninja -C build bench_model && build/tests/bench/bench_model
#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <functional>

#include "bench_util.h"
#include "model/generator.h"

using namespace sg::model;
using sg::bench::now;

namespace {

// Best of `reps` timed calls after one warm-up call (skipped when warmup is false).
double best_time(const std::function<void()>& f, int reps, bool warmup = true) {
  if (warmup) f();
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    const double t0 = now();
    f();
    best = std::min(best, now() - t0);
  }
  return best;
}

void print_blas() {
  std::printf("mapped BLAS-related libraries:\n");
  for (const auto& l : sg::bench::mapped_libraries({"blas", "lapack", "mkl", "dnnl", "gomp"}))
    std::printf("  %s\n", l.c_str());
}

double siren_macs(int64_t h) { return 3.0 * h + 7.0 * h * h + h + h * (h + 7.0) + 3.0 * h; }

struct Size {
  const char* name;
  GeneratorConfig cfg;
  int64_t img, steps, batch;
};

at::Tensor light_for(int64_t b) {
  return torch::tensor({0.17f, 0.42f, 0.5f, 0.3f}).unsqueeze(0).repeat({b, 1});
}

RenderOptions train_options(int64_t img, int64_t steps) {
  RenderOptions o;
  o.img_size = img;
  o.num_steps = steps;
  o.l_ratio = 1;  // shading on: normals are used
  o.delta = -1;
  return o;
}

double peak = 0;

// One forward (no grad, normals computed) and forward+backward; returns the fwd+bwd time.
void bench_size(Generator& g, const Size& s, int reps) {
  Draws draws = seeded_draws(1);
  const RenderOptions o = train_options(s.img, s.steps);
  const at::Tensor z = torch::randn({s.batch, s.cfg.z_dim});
  const at::Tensor l = light_for(s.batch);
  const double points = double(s.batch) * s.img * s.img * 2 * s.steps;
  const double fwd_flop = 2 * siren_macs(s.cfg.hidden_dim) * points;

  const double tf = best_time([&] {
    at::NoGradGuard ng;
    auto out = g->forward(z, l, o, draws);
  }, reps);
  const double tb = best_time([&] {
    g->zero_grad();
    auto out = g->forward(z, l, o, draws);
    (out.rgb.sum() + out.depth.sum()).backward();
  }, reps);
  std::printf("\n[%s] %ld px, %ld+%ld steps, batch %ld, width %ld: %.0f points/pass, "
              "%.3f GFLOP forward (model)\n",
              s.name, (long)s.img, (long)s.steps, (long)s.steps, (long)s.batch,
              (long)s.cfg.hidden_dim, points, fwd_flop / 1e9);
  std::printf("  forward, no grad, with normals: %8.3f s  %10.0f points/s  util %5.1f%% "
              "(forward FLOP only)\n", tf, points / tf, 100 * fwd_flop / tf / peak);
  std::printf("  forward+backward, double bwd:   %8.3f s  %10.0f points/s  util %5.1f%% (3x model), "
              "%5.1f%% (8x model)\n", tb, points / tb, 100 * 3 * fwd_flop / tb / peak,
              100 * 8 * fwd_flop / tb / peak);
  std::printf("  measured fwd+bwd / fwd-with-normals time: %.2fx\n", tb / tf);
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress visible when redirected to a file
  at::set_num_threads(1);
  // OpenBLAS keeps its own thread pool (OPENBLAS_NUM_THREADS is read at load time): pin it too.
  using SetThreads = void (*)(int);
  if (auto f = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) f(1);
  at::set_num_interop_threads(1);
  torch::manual_seed(0);
  const double t_start = now();
  std::printf("threads: intra-op %d\n", at::get_num_threads());
  print_blas();

  // (a) matmul peak.
  {
    const at::Tensor a = torch::randn({24576, 256}), b = torch::randn({256, 256});
    at::Tensor c;
    const double t = best_time([&] { c = torch::mm(a, b); }, 8);
    peak = 2.0 * 24576 * 256 * 256 / t;
    std::printf("\n(a) float32 matmul peak, mm 24576x256 @ 256x256: %.2f GFLOP/s (best of 8)\n",
                peak / 1e9);
  }

  // (b) CelebA 32 px stage (full width) and the demo size (configs/demo.toml stage 0: 16 px,
  // batch 8, hidden/mapping 64, surface net nf 8 size 64, 8 steps as num_steps_max).
  std::printf("\n(b) training forward and forward+backward (delta -1: the whole ray, as before "
              "the surface-tracking start step; l_ratio 1)\n");
  GeneratorConfig full;  // CelebA_ShadeGAN_view
  Generator gfull(full);
  {
    // One timed fwd+bwd first: the brief's fallback is batch 1 if it takes over 60 s.
    Size celeba{"CelebA 32 px stage", full, 32, 12, 4};
    Draws d = seeded_draws(2);
    const double t0 = now();
    {
      auto out = gfull->forward(torch::randn({4, 256}), light_for(4), train_options(32, 12), d);
      out.rgb.sum().backward();
    }
    const double t1 = now() - t0;
    if (t1 > 60) {
      celeba.batch = 1;
      std::printf("  batch 4 fwd+bwd took %.1f s > 60 s: using batch 1\n", t1);
    }
    bench_size(gfull, celeba, 2);
  }
  {
    GeneratorConfig demo;
    demo.hidden_dim = 64;
    demo.map_hidden_dim = 64;
    demo.surface_nf = 8;
    demo.surface_size = 64;
    Generator gdemo(demo);
    bench_size(gdemo, Size{"demo (configs/demo.toml stage 0)", demo, 16, 8, 8}, 3);
  }

  // (c) faithful against fast. faithful_normals: the training step before the shading warm-up
  // (l_ratio 0) with normals and their double backward (faithful) or without (fast).
  // faithful_averages: a 32 px staged_forward redrawing the 10 000 average latents each call.
  std::printf("\n(c) faithful mode against the fast path (full width)\n");
  {
    RenderOptions o = train_options(32, 12);
    o.l_ratio = 0;
    const int64_t B = 1;
    const at::Tensor z = torch::randn({B, 256}), l = light_for(B);
    Draws d = seeded_draws(3);
    auto step = [&](bool faithful) {
      o.faithful_normals = faithful;
      return best_time([&] {
        gfull->zero_grad();
        auto out = gfull->forward(z, l, o, d);
        (out.rgb.sum() + out.depth.sum()).backward();
      }, 2);
    };
    const double fast = step(false), faithful = step(true);
    std::printf("  training fwd+bwd at l_ratio 0, 32 px 12+12 steps, batch 1: faithful_normals "
                "%.3f s, fast %.3f s: faithful/fast %.2fx\n", faithful, fast, faithful / fast);
  }
  {
    RenderOptions o;
    o.img_size = 32;
    o.num_steps = 12;
    o.psi = 0.5;
    o.rt_normal = true;
    const at::Tensor z = torch::randn({1, 256}), l = light_for(1);
    Draws d = seeded_draws(4);
    auto render = [&](bool faithful) {
      o.faithful_averages = faithful;
      return best_time([&] { auto out = gfull->staged_forward(z, l, o, d); }, 3);
    };
    const double fast = render(false), faithful = render(true);
    std::printf("  staged_forward 32 px 12 steps, 1 image: faithful_averages %.3f s, fast %.3f s: "
                "faithful/fast %.2fx\n", faithful, fast, faithful / fast);
  }

  // (d) one 128 px render (render.sh's settings: 12 steps, psi 0.5, rt_normal, delta 0.06491)
  // with surface tracking, and without (delta -1: the whole [ray_start, ray_end]).
  std::printf("\n(d) 128 px staged_forward, 1 image, full width, 12+12 steps, rt_normal\n");
  {
    RenderOptions o;
    o.img_size = 128;
    o.num_steps = 12;
    o.psi = 0.5;
    o.rt_normal = true;
    const at::Tensor z = torch::randn({1, 256}), l = light_for(1);
    Draws d = seeded_draws(5);
    gfull->ensure_average_codes(d);
    auto render = [&](double delta, int64_t steps) {
      o.delta = delta;
      o.num_steps = steps;
      return best_time([&] { auto out = gfull->staged_forward(z, l, o, d); }, 1, false);
    };
    const double pts = 128.0 * 128 * 2 * 12;
    const double untracked = render(-1, 12);
    const double tracked = render(0.06491, 12);
    const double tracked6 = render(0.06, 6);
    std::printf("  without tracking (delta -1, 12 steps):   %7.2f s  %9.0f points/s\n", untracked,
                pts / untracked);
    std::printf("  with tracking (delta 0.06491, 12 steps): %7.2f s  %9.0f points/s  "
                "tracked/untracked %.2fx\n", tracked, pts / tracked, tracked / untracked);
    std::printf("  with tracking (delta 0.06, 6 steps, the scheduler's end point): %7.2f s  "
                "tracked/untracked %.2fx\n", tracked6, tracked6 / untracked);
  }
  std::printf("\ntotal benchmark time: %.1f s\n", now() - t_start);
  return 0;
}
