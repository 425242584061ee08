// Training throughput, as ratios measured in one run (issue 6's benchmark):
//  (a) the float32 matmul peak of one rank (torch::mm 24576x256 @ 256x256, the SIREN's shape),
//      measured inside every worker with its thread count;
//  (b) images/s of whole training iterations (train_step: D step with R1 and the pose loss, G step
//      with normals through the double backward, the depth loss, Adam, EMA) for configs/demo.toml
//      (its 16 px and 32 px stages) and for CelebA_ShadeGAN_view's 32 px stage at full width with
//      batch 4, on 1 rank and on 2 ranks (mpirun; gradients all-reduced), and the 2-rank scaling;
//  (c) FLOP utilisation against (a), with the FLOPs counted, not modelled (issue #23): one
//      iteration after the warm-up runs under the op profiler (flop_count.h), which adds up the
//      multiply-adds of every GEMM and convolution LibTorch executes (forward, backward, the
//      normals' and R1's double backward, the surface net, the discriminator, on every rank);
//      the FLOP/s are those FLOPs over the unprofiled time of the timed iterations. The same
//      profiled iteration gives the time by op category (PROFILE lines). An earlier model
//      (10 x one SIREN forward) claimed a utilisation of 1.42;
//  (d) one checkpoint write (every file fsynced, renamed, LATEST) against writing the same bytes
//      as plain files with one fsync each.
// Build: ninja -C build bench_train && build/tests/bench/bench_train [case] [--ranks 1|2]
// (it starts itself under mpirun -np 1 and -np 2 as workers).
#include <dlfcn.h>
#include <fcntl.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "bench_util.h"
#include "flop_count.h"
#include "config/curriculum.h"
#include "core/atomic_file.h"
#include "core/subprocess.h"
#include "data/light_prior.h"
#include "model/block_cache.h"
#include "model/shading.h"
#include "mpi/mpi.h"
#include "mpi/rank_threads.h"
#include "train/checkpoint.h"
#include "train/lpips.h"
#include "train/model_setup.h"
#include "train/train_step.h"
#include "train/trainer.h"

namespace fs = std::filesystem;
using namespace sg;
using sg::bench::now;

namespace {

std::string blas_libs() {
  std::string s;
  for (const auto& l : bench::mapped_libraries({"blas"})) s += (s.empty() ? "" : ", ") + l;
  return s;
}

model::LightPrior prior() {
  const data::LightPrior p = data::default_light_prior();
  at::Tensor mean = at::empty({4}, at::kDouble), cov = at::empty({4, 4}, at::kDouble);
  for (int i = 0; i < 4; ++i) mean[i] = p.mean[i];
  for (int i = 0; i < 16; ++i) cov[i / 4][i % 4] = p.cov[i];
  return model::make_light_prior(mean, cov, "default");
}

// LPIPS-VGG with random weights of the real shapes: the depth loss "l1+lpips" costs the same
// FLOPs whatever the weights, and the real ones are files this machine may not have. Without it
// the bench skipped the LPIPS half of the reference's depth loss (VGG16 at 128 px on prediction
// and target, and the backward through the prediction's).
train::Lpips random_lpips() {
  train::Lpips net;
  for (const train::VggConv& c : train::vgg16_convs()) {
    net.conv_w.push_back(torch::randn({c.out, c.in, 3, 3}) * std::sqrt(2.0 / (c.in * 9)));
    net.conv_b.push_back(torch::zeros({c.out}));
  }
  for (int64_t ch : {64, 128, 256, 512, 512}) net.lin.push_back(torch::rand({1, ch, 1, 1}) / double(ch));
  return net;
}

struct Case {
  const char* name;
  const char* curriculum;
  int64_t step;
  int64_t batch;  // per rank; 0 = the curriculum's
  int iters;
};

// Worker: one case on this process's ranks; rank 0 prints one parsable line.
void worker(const Case& c) {
  mpi::init();
  const int rank = mpi::rank(), world = mpi::size();
  at::set_num_threads(mpi::rank_threads(0).threads);
  // Every rank measures its peak at the same time: two ranks share one physical core here, so
  // a rank measured alone would claim the whole core and the sum would overstate the peak.
  mpi::barrier();
  const double peak = bench::matmul_peak_gflops();
  config::Curriculum cur = config::load_curriculum(std::string(SG_SOURCE_DIR) + "/configs/" + c.curriculum);
  if (c.step >= cur.end_step) {
    if (rank == 0)
      std::printf("%s: step %lld is past the end of %s (step %lld); fix the case table\n", c.name,
                  (long long)c.step, c.curriculum, (long long)cur.end_step);
    return;
  }
  const int64_t start = cur.at(c.step).stage.start;
  if (c.batch > 0) {
    cur.apply_override(fmt::format("stages.{}.batch_size", start), std::to_string(c.batch));
    cur.apply_override(fmt::format("stages.{}.batch_split", start), "1");
  }
  const config::Resolved r = cur.at(c.step);
  train::TrainState st;
  torch::manual_seed(0);
  train::build_models(st, cur, {cur.globals.unique_lr, false}, rank == 0, torch::kCPU);
  st.prior = prior();
  if (cur.globals.surf_track && cur.globals.depth_loss == "l1+lpips") st.lpips = random_lpips();
  st.draws = model::seeded_draws(rank + 1);
  st.step = c.step;
  const int64_t B = r.stage.batch_size, S = r.stage.img_size;
  at::Tensor real = at::rand({B, 3, S, S}) * 2 - 1;
  train::train_step(st, r, real, {cur.globals.unique_lr, false});  // warm-up
  // One iteration under the profiler: the FLOPs executed and where its time goes.
  bench::Profile prof;
  {
    bench::OpProfiler p;
    train::train_step(st, r, real, {cur.globals.unique_lr, false});
    prof = p.stop();
  }
  mpi::barrier();
  const double t0 = now(), c0 = bench::cpu_now();
  for (int i = 0; i < c.iters; ++i) train::train_step(st, r, real, {cur.globals.unique_lr, false});
  const double cpu = (bench::cpu_now() - c0) / c.iters;  // this rank's, all its threads
  mpi::barrier();
  const double secs = (now() - t0) / c.iters;
  const int64_t N = train::training_render_options(r).num_steps;
  double flop = prof.flop, peak_sum = peak;
  mpi::allreduce_sum(&flop, 1);
  mpi::allreduce_sum(&peak_sum, 1);

  if (rank == 0) {
    const model::BlockCacheStats bc = model::block_cache_stats();
    std::printf("RESULT %s ranks=%d threads=%d depth_loss=%s block_cache=%s(%lld hits, %lld misses, peak %.2f GiB mapped) batch=%lld size=%lld N=%lld sec_per_iter=%.4f cpu_s_per_iter=%.3f img_per_s=%.3f flop=%.4g "
                "gflops=%.2f peak_gflops=%.2f util=%.3f\n",
                c.name, world, at::get_num_threads(),
                !cur.globals.surf_track ? "none" : st.lpips.defined() ? "l1+lpips" : "l1", model::use_block_cache() ? "on" : "off", (long long)bc.hits, (long long)bc.misses,
                double(bc.peak_mapped_bytes) / (1 << 30),
                (long long)B, (long long)S, (long long)N, secs, cpu, double(B * world) / secs,
                flop, flop / secs / 1e9, peak_sum, flop / secs / 1e9 / peak_sum);
    // Rank 0's iteration: its FLOPs over its share of the peak.
    bench::print_profile(stdout, prof, secs, peak, fmt::format("PROFILE {} ranks={}", c.name, world).c_str());
    std::fflush(stdout);
  }
  // Checkpoint write against raw writes of the same bytes (rank 0's files; 1-rank runs only).
  if (world == 1 && std::getenv("SG_BENCH_CKPT")) {
    const fs::path dir = fs::path(std::getenv("SG_BENCH_CKPT")) / c.name;
    fs::remove_all(dir);
    train::CheckpointExtras x;
    x.curriculum = &cur;
    x.keep = 1;
    double tc = now();
    const std::string out = train::save_checkpoint(st, dir.string(), x);
    tc = now() - tc;
    int64_t bytes = 0;
    std::vector<std::string> contents;
    for (const auto& e : fs::directory_iterator(out)) {
      contents.push_back(read_file(e.path().string()));
      bytes += int64_t(contents.back().size());
    }
    const fs::path raw = dir / "raw";
    fs::create_directories(raw);
    double tr = now();
    for (size_t i = 0; i < contents.size(); ++i) {
      const std::string p = (raw / std::to_string(i)).string();
      const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      size_t off = 0;
      while (off < contents[i].size()) {
        const ssize_t n = ::write(fd, contents[i].data() + off, contents[i].size() - off);
        if (n <= 0) break;
        off += size_t(n);
      }
      ::fsync(fd);
      ::close(fd);
    }
    tr = now() - tr;
    std::printf("CKPT %s bytes=%lld ckpt_s=%.3f raw_s=%.3f ratio=%.2f\n", c.name, (long long)bytes, tc, tr, tc / tr);
    fs::remove_all(dir);
  }
}

const Case kCases[] = {
    {"demo-16px", "demo.toml", 0, 0, 4},
    {"demo-32px", "demo.toml", 24, 0, 4},  // demo.toml: 32 px from step 24
    {"celeba-32px-b4", "CelebA_ShadeGAN_view.toml", 0, 4, 1},
};

}  // namespace

int main(int argc, char** argv) {
  if (const char* w = std::getenv("SG_BENCH_CASE")) {
    for (const Case& c : kCases)
      if (std::string(c.name) == w) worker(c);
    return 0;
  }
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const std::string tmp = (fs::temp_directory_path() / ("bench-train-" + std::to_string(::getpid()))).string();
  std::printf("BLAS: %s\n", blas_libs().c_str());
  std::printf("(each case: %s under mpirun -np 1, then -np 2; threads per rank = cores / ranks)\n", self.c_str());
  // bench_train [case] [--ranks 1|2] [--cache-pair]: one case, one rank count (default both);
  // --cache-pair runs each worker twice, without the block cache (SG_BLOCK_CACHE=0) and with it,
  // so the pair is measured in one run.
  const int only_ranks = std::atoi(bench::arg(argc, argv, "--ranks", "0"));
  bool cache_pair = false;
  for (int i = 1; i < argc; ++i) cache_pair = cache_pair || std::string(argv[i]) == "--cache-pair";
  const std::vector<std::string> cache_modes = cache_pair ? std::vector<std::string>{"0", "1"}
                                                          : std::vector<std::string>{"1"};
  for (const Case& c : kCases) {
    if (argc > 1 && argv[1][0] != '-' && std::string(argv[1]) != c.name) continue;
    for (int ranks : {1, 2}) {
      if (only_ranks && ranks != only_ranks) continue;
      for (const std::string& cache : cache_modes) {
        ProcessSpec spec;
        // --bind-to none: Open MPI binds each rank to one core when np <= 2, which left a lone
        // rank one thread on a two-core machine; unbound, mpi::rank_threads divides the cores.
        spec.argv = {"mpirun", "--bind-to", "none", "-np", std::to_string(ranks), "-x", "SG_BLOCK_CACHE", self};
        spec.env = {{"SG_BENCH_CASE", c.name}, {"OMPI_ALLOW_RUN_AS_ROOT", "1"}, {"OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"},
                    {"SG_BENCH_CKPT", tmp}, {"SG_BLOCK_CACHE", cache}};
        const auto e = run_process(spec);
        if (e.code != 0) std::printf("%s on %d ranks failed (exit %d)\n", c.name, ranks, e.code);
      }
    }
  }
  fs::remove_all(tmp);
  return 0;
}
