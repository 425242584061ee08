// Render and shape-extraction throughput (issue #8), as ratios measured in one run on one BLAS:
//  1. pixels/s of an S px render (default 128) of the full-size CelebA_ShadeGAN_view generator
//     (random weights) without surface tracking (12 + 12 samples over the whole ray) and with it
//     (the released schedule's end: 6 + 6 samples in a band delta = 0.06423 around the predicted
//     depth, what eval_metrics uses); the paper claims 48 % less inference time with tracking.
//     --same-steps adds tracking at 12 + 12 samples (render.sh: delta 0.06491), which separates
//     the cost of tracking itself from the saving of the fewer samples it allows.
//  2. density-grid points/s without normals (ours: SIREN trunk + density head) and with them
//     (the reference's extract_shapes: full forward with autograd normals, then discarded).
//  3. iso-surface voxels/s of OpenVDB's volumeToMesh on a 192^3 sphere grid.
// After 1, one render of each kind runs under the op profiler: the GEMM and convolution FLOPs it
// executes, their rate over 1's median time against the matmul peak of this run, and its time by
// op category (issue #23). --render-only stops there.
//
// The machine is shared (2 vCPUs, other builds and training running), so the alternatives are
// interleaved (A B A B ..., the order flipped every other round so neither side always runs
// first) and each reports the median of its repetitions; load affects both sides alike. The
// 1-minute load average is printed before every round and summarised at the end, and CPU time
// beside wall time (LibTorch runs one intra-op thread here, so CPU < wall means we were waiting
// for a core).
//
// Bounded time: staged_forward already renders in chunks of max_batch_size SIREN points, so
// memory stays bounded; the time is bounded by --budget: no new round starts once the budget of
// a section is spent (each alternative still gets at least one repetition).
//
//   ninja -C build bench_render && build/tests/bench/bench_render [--size 128] [--reps 3]
//       [--budget 600] [--grid-reps 3] [--grid-batches 1] [--same-steps] [--render-only] [--cache-pair]
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "interleave.h"
#include "flop_count.h"
#include "model/block_cache.h"
#include "model/generator.h"
#include "render/render_seed.h"
#include "shape/grid.h"
#include "shape/iso_surface.h"

using namespace sg;
using namespace sg::bench;

namespace {

void print_blas() {
  std::printf("BLAS: ");
  for (const auto& l : mapped_libraries({"blas", "lapack"})) std::printf("%s ", l.c_str());
  std::printf("; torch threads %d\n", at::get_num_threads());
}

std::vector<double> loads;  // 1-minute load average sampled before every round, all sections

bool flag(int argc, char** argv, const char* name) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t S = std::atoll(arg(argc, argv, "--size", "128"));
  const int reps = std::atoi(arg(argc, argv, "--reps", "3"));
  const double budget = std::atof(arg(argc, argv, "--budget", "600"));
  const int grid_reps = std::atoi(arg(argc, argv, "--grid-reps", "3"));
  // Batches of 100,000 points (extract's default batch); one batch a repetition by default, since
  // with normals a batch takes tens of seconds on a loaded machine.
  const int64_t grid_batches = std::max(1, std::atoi(arg(argc, argv, "--grid-batches", "1")));
  const bool same_steps = flag(argc, argv, "--same-steps");
  const double t_start = now();
  print_blas();
  std::printf("load average at start: %.2f\n", load1());
  torch::manual_seed(0);
  model::Generator gen(model::GeneratorConfig{});  // CelebA_ShadeGAN_view, full size
  gen->eval();
  model::Draws draws = model::seeded_draws(1);
  gen->compute_average_codes(draws);
  torch::NoGradGuard ng;
  const at::Tensor z = torch::randn({1, 256});
  const at::Tensor light = torch::tensor({0.17f, 0.42f, 0.5f, 0.3f}).unsqueeze(0);

  // 1. Render with and without surface tracking: one frontal view per call, as render.py does
  //    per (yaw, light) pair. max_batch_size stays at its default (50,000 SIREN points a chunk).
  auto view_at = [&](double delta, int64_t steps) {
    return [&, delta, steps] {
      model::RenderOptions o;
      o.img_size = S;
      o.num_steps = steps;
      o.delta = delta;
      o.psi = 0.5;
      o.rt_normal = true;
      o.camera.dist = model::CameraDist::fixed;
      render::generator_renderer(gen, o, z, draws)(M_PI / 2, M_PI / 2, light);
    };
  };
  {
    // Warm-up at 32 px (allocator, oneDNN kernels) so the first timed round is not penalised.
    model::RenderOptions o;
    o.img_size = 32;
    o.delta = 0.06423;
    o.num_steps = 6;
    o.psi = 0.5;
    o.camera.dist = model::CameraDist::fixed;
    render::generator_renderer(gen, o, z, draws)(M_PI / 2, M_PI / 2, light);
  }
  std::vector<Part> r = {{"full", view_at(-1, 12), {}, {}},
                                {"tracked6", view_at(0.06423, 6), {}, {}}};
  if (same_steps) r.push_back({"tracked12", view_at(0.06491, 12), {}, {}});
  if (flag(argc, argv, "--cache-pair")) {
    // The full render again with the block cache off (model/block_cache.h), interleaved with the
    // rest: the allocator's share measured in this run.
    auto full = view_at(-1, 12);
    r.push_back({"full-nocache", [full] {
                   model::set_block_cache_enabled(false);
                   full();
                   model::set_block_cache_enabled(true);
                 }, {}, {}});
  }
  std::printf("\n1. render %lld px, full-size generator, rt_normal, psi 0.5, 1 view per call; "
              "up to %d interleaved rounds, budget %.0f s\n",
              (long long)S, reps, budget);
  interleave(r, reps, loads, budget);
  const double px = double(S * S);
  const double t_full = median(r[0].wall), t_tr = median(r[1].wall);

  // 1b. The FLOPs of one render of each kind, counted as executed (flop_count.h), over the median
  //     unprofiled time above, against the GEMM peak measured now in this process; and where the
  //     time of the profiled render goes.
  const double peak = matmul_peak_gflops();
  for (Part& a : r) {
    OpProfiler p;
    a.run();
    const Profile prof = p.stop();
    print_profile(stdout, prof, median(a.wall), peak, ("PROFILE render " + a.name).c_str());
  }
  if (flag(argc, argv, "--render-only")) {
    std::printf("render %lld px (medians): full %.2f s (cpu %.2f), tracked6 %.2f s", (long long)S, t_full,
                median(r[0].cpu), t_tr);
    for (size_t k = 2; k < r.size(); ++k)
      std::printf(", %s %.2f s (cpu %.2f; full is %.2fx faster in wall, %.2fx in cpu)", r[k].name.c_str(),
                  median(r[k].wall), median(r[k].cpu), median(r[k].wall) / t_full, median(r[k].cpu) / median(r[0].cpu));
    std::printf("; total %.0f s\n", now() - t_start);
    return 0;
  }

  // 2. Grid points with and without normals.
  const auto codes = gen->truncated_codes(z, 0.5, draws);
  const at::Tensor freq = codes.first, phase = codes.second;
  shape::GridSpec g{64, 0.3, true};
  const int64_t batch = 100000, points = grid_batches * batch;
  auto grid = [&](bool normals) {
    return [&, normals] {
      for (int64_t head = 0; head < points; head += batch) {
        at::Tensor p = shape::grid_points(g, head, batch).unsqueeze(0);
        if (normals) {
          torch::AutoGradMode on(true);  // what the reference's SIREN forces on with shading
          at::Tensor dirs = at::zeros_like(p);
          dirs.select(-1, 2).fill_(-1);
          gen->siren->forward(p, freq, phase, light, dirs, true);
        } else {
          gen->siren->density(p, freq, phase);
        }
      }
    };
  };
  std::vector<Part> gr = {{"normals", grid(true), {}, {}}, {"density", grid(false), {}, {}}};
  std::printf("\n2. density grid, %lld points per repetition in batches of %lld; %d interleaved rounds\n",
              (long long)points, (long long)batch, grid_reps);
  interleave(gr, grid_reps, loads, budget);

  // 3. Iso-surface.
  const int64_t N = 192;
  std::vector<float> values(size_t(N * N * N));
  for (int64_t i = 0; i < N; ++i)
    for (int64_t j = 0; j < N; ++j)
      for (int64_t k = 0; k < N; ++k) {
        const double x = i - N / 2.0, y = j - N / 2.0, w = k - N / 2.0;
        values[size_t((i * N + j) * N + k)] = float(std::max(0.0, 35 + 10 * (N / 3.0 - std::sqrt(x * x + y * y + w * w))));
      }
  shape::Mesh m;
  std::vector<Part> iso = {{"iso", [&] { m = shape::iso_surface(values, N, N, N, 35.f); }, {}, {}}};
  std::printf("\n3. iso-surface %lld^3 sphere; 5 repetitions\n", (long long)N);
  interleave(iso, 5, loads, budget);

  // The table: medians; ratios of medians taken from the same interleaved rounds.
  std::printf("\n| work | size | reps | median wall s | median CPU s | rate | ratio |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- |\n");
  std::printf("| render, no tracking (12+12 samples, whole ray) | %lld px | %zu | %.2f | %.2f | %.0f px/s | 1 |\n",
              (long long)S, r[0].wall.size(), t_full, median(r[0].cpu), px / t_full);
  std::printf("| render, tracking (6+6 samples, delta 0.06423) | %lld px | %zu | %.2f | %.2f | %.0f px/s | "
              "%.2fx faster, %.0f%% less time (paper: 48%%) |\n",
              (long long)S, r[1].wall.size(), t_tr, median(r[1].cpu), px / t_tr, t_full / t_tr,
              100 * (1 - t_tr / t_full));
  if (same_steps) {
    const double t12 = median(r[2].wall);
    std::printf("| render, tracking (12+12 samples, delta 0.06491) | %lld px | %zu | %.2f | %.2f | %.0f px/s | "
                "%.2fx faster, %.0f%% less time |\n",
                (long long)S, r[2].wall.size(), t12, median(r[2].cpu), px / t12, t_full / t12,
                100 * (1 - t12 / t_full));
  }
  const double g_n = median(gr[0].wall), g_d = median(gr[1].wall);
  std::printf("| grid with normals (reference) | %lld pt | %zu | %.2f | %.2f | %.0f pt/s | 1 |\n",
              (long long)points, gr[0].wall.size(), g_n, median(gr[0].cpu), points / g_n);
  std::printf("| grid density only (ours) | %lld pt | %zu | %.2f | %.2f | %.0f pt/s | %.2fx faster |\n",
              (long long)points, gr[1].wall.size(), g_d, median(gr[1].cpu), points / g_d, g_n / g_d);
  const double t_iso = median(iso[0].wall);
  std::printf("| iso-surface (OpenVDB), %zu vertices, %zu faces | %lld^3 | %zu | %.3f | %.3f | %.1f M voxels/s | |\n",
              m.vertices.size(), m.faces.size(), (long long)N, iso[0].wall.size(), t_iso,
              median(iso[0].cpu), double(N * N * N) / t_iso / 1e6);
  std::printf("\nload average (1 min) over the rounds: min %.2f, median %.2f, max %.2f; at the end %.2f; "
              "%u CPUs\n",
              *std::min_element(loads.begin(), loads.end()), median(loads),
              *std::max_element(loads.begin(), loads.end()), load1(), std::thread::hardware_concurrency());
  std::printf("total benchmark time: %.0f s\n", now() - t_start);
  return 0;
}
