// FID / KID / IS on the 10000 x 2048 fixture features against the reference's times on this
// machine (platform-notes.md: torch-fidelity 0.2.0 with scipy and OpenBLAS), plus the
// general-purpose routes in the same run: a Denman-Beavers sqrtm for FID's matrix square root,
// a plain float64 loop for one KID subset; and FID-Inception images/s.
//   ninja -C build bench_metrics && build/tests/bench/bench_metrics
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <time.h>

#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "metrics/fid.h"
#include "metrics/fid_inception.h"
#include "metrics/inception_score.h"
#include "metrics/kid.h"
#include "metrics/fixture_features.h"
#include "metrics/reference_fixture.h"

using namespace sg::metrics;
namespace fx = sg::metrics::fixture;

namespace {

// The reference (Python) on this machine, seconds (platform-notes.md).
constexpr double kRefFid = 7.2, kRefKid = 12.3, kRefIs = 1.1;

double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double total_cpu = 0, total_wall = 0;

// Wall seconds of f(); CPU seconds are accumulated too, since on a loaded machine (other builds
// running) wall time overstates our cost and the CPU time is the fairer comparison.
template <class F>
double seconds(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  const double c0 = cpu_now();
  f();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_now() - c0;
  total_cpu += cpu;
  total_wall += wall;
  fmt::print("    [{:.2f} s wall, {:.2f} s CPU]\n", wall, cpu);
  return wall;
}

void print_blas() {
  std::ifstream maps("/proc/self/maps");
  std::set<std::string> libs;
  for (std::string line; std::getline(maps, line);) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    if (path.find("blas") != std::string::npos || path.find("lapack") != std::string::npos)
      libs.insert(path);
  }
  for (const auto& l : libs) fmt::print("blas/lapack mapped: {}\n", l);
  fmt::print("ATen intra-op threads: {}\n", at::get_num_threads());
}

// One subset's MMD^2 as three plain float64 loops (the "no BLAS" baseline).
double mmd2_loops(const at::Tensor& x, const at::Tensor& y, double gamma) {
  const int64_t m = x.size(0), d = x.size(1);
  const at::Tensor xd = x.to(at::kDouble).contiguous(), yd = y.to(at::kDouble).contiguous();
  const double* a = xd.data_ptr<double>();
  const double* b = yd.data_ptr<double>();
  auto k = [&](const double* u, const double* v) {
    double s = 0;
    for (int64_t t = 0; t < d; ++t) s += u[t] * v[t];
    const double z = s * gamma + 1;
    return z * z * z;
  };
  double xx = 0, yy = 0, xy = 0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < m; ++j) {
      if (i != j) {
        xx += k(a + i * d, a + j * d);
        yy += k(b + i * d, b + j * d);
      }
      xy += k(a + i * d, b + j * d);
    }
  const double md = static_cast<double>(m);
  return (xx + yy) / (md * (md - 1)) - 2 * xy / (md * md);
}

}  // namespace

int main() {
  print_blas();
  const auto& ref = fx::reference()["full"]["values"];
  at::Tensor f1, f2, logits;
  const double t_gen = seconds([&] {
    f1 = fx::features(1, 10000, 2048);
    f2 = fx::features(2, 10000, 2048);
    logits = fx::logits(10000, 1008);
  });
  fmt::print("regenerating the fixture features: {:.2f} s\n", t_gen);

  // FID: statistics of both sets and the distance, as the reference's 7.2 s measures.
  FeatureStatistics s1, s2;
  FidTerms fid;
  const double t_stats = seconds([&] {
    s1 = feature_statistics(f1);
    s2 = feature_statistics(f2);
  });
  const double t_distance = seconds([&] { fid = frechet_distance(s1, s2); });
  const double t_fid = t_stats + t_distance;
  fmt::print("FID {:.12f} (reference {:.12f}, rel. diff {:.1e})\n", fid.fid,
             ref["fid_pytorch_fid"].get<double>(),
             fx::relative_error(fid.fid, ref["fid_pytorch_fid"]));
  fmt::print("  statistics {:.2f} s + distance {:.2f} s = {:.2f} s; reference 7.2 s: ratio "
             "ours/reference {:.2f}\n",
             t_stats, t_distance, t_fid, t_fid / kRefFid);

  // The general-purpose route for the same trace: Denman-Beavers sqrtm of S1 S2.
  double tr_symmetric = 0, tr_general = 0;
  const double t_sym = seconds([&] { tr_symmetric = trace_sqrt_product(s1.cov, s2.cov); });
  const double t_db = seconds([&] {
    tr_general = sqrtm_denman_beavers(at::mm(s1.cov, s2.cov)).diagonal().sum().item<double>();
  });
  fmt::print("Tr sqrtm(S1 S2): symmetric eigen {:.12f} in {:.2f} s, Denman-Beavers {:.12f} in "
             "{:.2f} s (rel. diff {:.1e}); general/symmetric time ratio {:.2f}; scipy's Schur "
             "sqrtm took 5.7 s in the reference\n",
             tr_symmetric, t_sym, tr_general, t_db, fx::relative_error(tr_general, tr_symmetric),
             t_db / t_sym);

  // KID: 100 subsets of 1000, float64.
  KidResult kid;
  const double t_kid = seconds([&] { kid = kernel_inception_distance(f1, f2); });
  const auto& kref = ref["kid_float64"];
  fmt::print("KID {:.12e} +- {:.6e} (reference {:.12e}, rel. diff {:.1e}) in {:.2f} s; reference "
             "12.3 s: ratio ours/reference {:.2f}\n",
             kid.mean, kid.std, kref["kernel_inception_distance_mean"].get<double>(),
             fx::relative_error(kid.mean, kref["kernel_inception_distance_mean"]), t_kid,
             t_kid / kRefKid);
  KidOptions exact;
  exact.float64_products = true;
  exact.subsets = 10;
  KidResult kid64;
  const double t_kid64 = seconds([&] { kid64 = kernel_inception_distance(f1, f2, exact); });
  fmt::print("KID with float64 products, first 10 subsets: {:.2f} s (x10 = {:.1f} s for 100: "
             "ratio ours/reference {:.2f}); subset 0 MMD2 {:.15e} vs float32 products {:.15e}\n",
             t_kid64, 10 * t_kid64, 10 * t_kid64 / kRefKid, kid64.mmds[0], kid.mmds[0]);
  const auto subsets = kid_subsets(10000, 10000, KidOptions{});
  const at::Tensor x0 =
      f1.index_select(0, at::tensor(subsets[0].rows1, at::kLong));
  const at::Tensor y0 =
      f2.index_select(0, at::tensor(subsets[0].rows2, at::kLong));
  double loop_value = 0;
  const double t_loop = seconds([&] { loop_value = mmd2_loops(x0, y0, 1.0 / 2048); });
  fmt::print("one KID subset: plain float64 loops {:.2f} s (MMD2 {:.12e} vs ours {:.12e}); "
             "ours per subset {:.3f} s: loop/ours ratio {:.1f}\n",
             t_loop, loop_value, kid.mmds[0], t_kid / 100, t_loop / (t_kid / 100));

  // IS: 10 splits.
  InceptionScoreResult is;
  const double t_is = seconds([&] { is = inception_score(logits); });
  fmt::print("IS {:.12f} +- {:.12f} (reference {:.12f}, rel. diff {:.1e}) in {:.3f} s; reference "
             "1.1 s: ratio ours/reference {:.3f}\n",
             is.mean, is.std, ref["isc"]["inception_score_mean"].get<double>(),
             fx::relative_error(is.mean, ref["isc"]["inception_score_mean"]), t_is, t_is / kRefIs);

  // FID-Inception feature extraction (weights do not change the speed: placeholders).
  const FidInception net;
  const at::Tensor images = at::randint(0, 256, {8, 3, 128, 128}, at::kByte);
  net.features(images.slice(0, 0, 1), InceptionInput::torch_fidelity);  // warm-up
  const double t_inc = seconds([&] { net.features(images, InceptionInput::torch_fidelity); });
  fmt::print("FID Inception: 8 images 128 px -> 299 px in {:.2f} s = {:.2f} images/s "
             "(torch-fidelity input mode)\n",
             t_inc, 8 / t_inc);
  std::ifstream la("/proc/loadavg");
  double l1 = 0;
  la >> l1;
  fmt::print("timed work: {:.1f} s wall, {:.1f} s CPU; load average at the end {:.1f} on {} CPUs\n",
             total_wall, total_cpu, l1, std::thread::hardware_concurrency());
  return 0;
}
