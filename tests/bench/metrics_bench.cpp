// FID / KID / IS on the 10000 x 2048 fixture features (issue #9), each against a general-purpose
// route measured in the same run, plus the reference's times on this machine (platform-notes.md:
// torch-fidelity 0.2.0 with scipy and OpenBLAS) for orientation:
//  1. FID: statistics of both sets, then the distance by our symmetric route (two eigh) and by a
//     general-purpose matrix square root (scaled Denman-Beavers sqrtm of S1 S2, what scipy's
//     Schur sqrtm stands in for), both through ATen and so through the same BLAS/LAPACK.
//  2. KID 100 subsets x 1000: ours (float32 Gram products, the default; float64 products) against
//     a plain float64 triple loop, per subset on the same subsets; the whole 100-subset KID of
//     ours once, and the loop's 100-subset time extrapolated from its per-subset median.
//  3. IS (10 splits).
//  4. FID-Inception feature extraction images/s, with deterministic (seeded) weights.
//
// The machine is shared (2 vCPUs, builds and training running), so alternatives run interleaved
// (A B A B ..., the order flipped every other round) and each reports the median of its
// repetitions; the 1-minute load average is printed before every round and summarised.
//   ninja -C build bench_metrics && build/tests/bench/bench_metrics [--reps 3] [--kid-subsets 4]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <torch/nn/module.h>

#include <algorithm>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "inception_weights.h"
#include "metrics/fid.h"
#include "metrics/fid_inception.h"
#include "metrics/inception_score.h"
#include "metrics/kid.h"
#include "metrics/fixture_features.h"
#include "metrics/reference_fixture.h"

using namespace sg::metrics;
namespace fx = sg::metrics::fixture;
using namespace sg::bench;

namespace {

// The reference (Python) on this machine, seconds (platform-notes.md; one run each, +-15%).
constexpr double kRefFid = 7.2, kRefSqrtm = 5.7, kRefKid = 12.3, kRefIs = 1.1;

void print_blas() {
  for (const auto& l : mapped_libraries({"blas", "lapack"})) fmt::print("blas/lapack mapped: {}\n", l);
  fmt::print("ATen intra-op threads: {}\n", at::get_num_threads());
}

struct Alternative {
  std::string name;
  std::function<void(int round)> run;
  std::vector<double> wall, cpu;
};

std::vector<double> loads;  // 1-minute load average before every round, all sections

// Round r runs every alternative once, in order when r is even and reversed when odd, so load
// changes and cache effects fall on both sides alike. The round number is passed on (KID uses
// it to pick the subset).
void interleave(std::vector<Alternative>& alts, int rounds) {
  for (int r = 0; r < rounds; ++r) {
    const double l = load1();
    loads.push_back(l);
    fmt::print("  round {} (load {:.2f}):", r + 1, l);
    for (size_t k = 0; k < alts.size(); ++k) {
      Alternative& a = alts[r % 2 ? alts.size() - 1 - k : k];
      const double w0 = now(), c0 = cpu_now();
      a.run(r);
      a.wall.push_back(now() - w0);
      a.cpu.push_back(cpu_now() - c0);
      fmt::print(" {} {:.2f} s (cpu {:.2f})", a.name, a.wall.back(), a.cpu.back());
      std::fflush(stdout);
    }
    fmt::print("\n");
  }
}

// One subset's MMD^2 as plain float64 loops (the "no BLAS" baseline): every kernel entry
// computed as a dot product, no symmetry used, sums in float64.
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

int main(int argc, char** argv) {
  const int reps = std::atoi(arg(argc, argv, "--reps", "3"));
  // At most the 100 subsets there are; each round of the loop costs seconds.
  const int kid_rounds = std::clamp(std::atoi(arg(argc, argv, "--kid-subsets", "4")), 1, 100);
  const double t_start = now();
  print_blas();
  fmt::print("load average at start: {:.2f}\n", load1());
  const auto& ref = fx::reference()["full"]["values"];
  const at::Tensor f1 = fx::features(1, 10000, 2048);
  const at::Tensor f2 = fx::features(2, 10000, 2048);
  const at::Tensor logits = fx::logits(10000, 1008);

  // 1. FID. The statistics are the same work for both routes, so they run once per round as
  //    their own step; the distances differ only in Tr sqrtm(S1 S2).
  FeatureStatistics s1, s2;
  FidTerms fid;
  double fid_general = 0;
  std::vector<Alternative> f = {
      {"statistics",
       [&](int) {
         s1 = feature_statistics(f1);
         s2 = feature_statistics(f2);
       }, {}, {}},
      {"distance-symmetric", [&](int) { fid = frechet_distance(s1, s2); }, {}, {}},
      {"distance-denman-beavers",
       [&](int) {
         const at::Tensor diff = s1.mean - s2.mean;
         const double tr_covmean =
             sqrtm_denman_beavers(at::mm(s1.cov, s2.cov)).diagonal().sum().item<double>();
         fid_general = diff.dot(diff).item<double>() + s1.cov.diagonal().sum().item<double>() +
                       s2.cov.diagonal().sum().item<double>() - 2 * tr_covmean;
       }, {}, {}}};
  // The distances need statistics: compute them once before the first round (untimed), so a
  // reversed round that starts with a distance has its input.
  s1 = feature_statistics(f1);
  s2 = feature_statistics(f2);
  fmt::print("\n1. FID on 2 x 10,000 x 2048 float32 features (float64 math); {} interleaved rounds\n", reps);
  interleave(f, reps);
  const double t_stats = median(f[0].wall), t_sym = median(f[1].wall), t_db = median(f[2].wall);
  fmt::print("  FID symmetric {:.12f}, Denman-Beavers {:.12f} (rel. diff {:.1e}); reference {:.12f} "
             "(rel. diff {:.1e})\n",
             fid.fid, fid_general, fx::relative_error(fid_general, fid.fid),
             ref["fid_pytorch_fid"].get<double>(), fx::relative_error(fid.fid, ref["fid_pytorch_fid"]));

  // 2. KID: per subset, on the same subsets, three ways.
  const KidOptions kopt;
  const double gamma = 1.0 / 2048;
  const auto subsets = kid_subsets(10000, 10000, kopt);
  auto subset_rows = [&](const at::Tensor& feats, const std::vector<int64_t>& rows) {
    return feats.index_select(0, at::tensor(rows, at::kLong));
  };
  std::vector<double> v32, v64, vloop;
  std::vector<Alternative> k = {
      {"ours-f32", [&](int r) {
         const auto& s = subsets[size_t(r)];
         v32.push_back(mmd2_polynomial(subset_rows(f1, s.rows1), subset_rows(f2, s.rows2), 3, gamma, 1, false));
       }, {}, {}},
      {"ours-f64", [&](int r) {
         const auto& s = subsets[size_t(r)];
         v64.push_back(mmd2_polynomial(subset_rows(f1, s.rows1), subset_rows(f2, s.rows2), 3, gamma, 1, true));
       }, {}, {}},
      {"loop-f64", [&](int r) {
         const auto& s = subsets[size_t(r)];
         vloop.push_back(mmd2_loops(subset_rows(f1, s.rows1), subset_rows(f2, s.rows2), gamma));
       }, {}, {}}};
  fmt::print("\n2. KID, one subset of 1000 x 2048 per round (subsets 0..{} of the reference's 100), "
             "three ways\n", kid_rounds - 1);
  interleave(k, kid_rounds);
  double worst = 0;
  for (size_t i = 0; i < vloop.size(); ++i)
    worst = std::max({worst, std::abs(v32[i] - vloop[i]) / std::abs(vloop[i]),
                      std::abs(v64[i] - vloop[i]) / std::abs(vloop[i])});
  fmt::print("  subset 0 MMD2: loop {:.15e}, ours f64 {:.15e}, ours f32 {:.15e}; worst rel. diff "
             "to the loop over the subsets {:.1e}\n",
             vloop[0], v64[0], v32[0], worst);
  // The whole KID (100 subsets) once, ours with the default float32 products; it is the figure
  // comparable to the reference's 12.3 s. Between the per-subset rounds' load samples.
  loads.push_back(load1());
  fmt::print("  whole KID 100 x 1000 (ours, float32 products; load {:.2f}):", loads.back());
  const double w0 = now(), c0 = cpu_now();
  const KidResult kid = kernel_inception_distance(f1, f2);
  const double t_kid_all = now() - w0, c_kid_all = cpu_now() - c0;
  const auto& kref = ref["kid_float64"];
  fmt::print(" {:.2f} s (cpu {:.2f}); KID {:.12e} +- {:.6e}, reference {:.12e} (rel. diff {:.1e})\n",
             t_kid_all, c_kid_all, kid.mean, kid.std,
             kref["kernel_inception_distance_mean"].get<double>(),
             fx::relative_error(kid.mean, kref["kernel_inception_distance_mean"]));

  // 3. IS.
  InceptionScoreResult is;
  std::vector<Alternative> isc = {{"inception-score", [&](int) { is = inception_score(logits); }, {}, {}}};
  fmt::print("\n3. IS on 10,000 x 1008 logits, 10 splits; {} rounds\n", reps);
  interleave(isc, reps);
  fmt::print("  IS {:.12f} +- {:.12f} (reference {:.12f}, rel. diff {:.1e})\n", is.mean, is.std,
             ref["isc"]["inception_score_mean"].get<double>(),
             fx::relative_error(is.mean, ref["isc"]["inception_score_mean"]));

  // 4. FID-Inception feature extraction.
  FidInception net;
  seeded_inception_weights(net, 2015);
  const int64_t B = 8;
  const at::Tensor images = at::randint(0, 256, {B, 3, 128, 128}, at::kByte);
  net.features(images.slice(0, 0, 1), InceptionInput::torch_fidelity);  // warm-up (oneDNN kernels)
  at::Tensor pool;
  std::vector<Alternative> inc = {
      {"inception", [&](int) { pool = net.features(images, InceptionInput::torch_fidelity).pool; }, {}, {}}};
  fmt::print("\n4. FID Inception, batches of {} images 128 px -> 299 px (torch-fidelity input), seeded "
             "weights; {} rounds\n", B, reps);
  interleave(inc, reps);
  fmt::print("  features finite: {}, mean {:.4g}, std {:.4g}\n", bool(pool.isfinite().all().item<bool>()),
             pool.mean().item<double>(), pool.std().item<double>());

  // The table.
  const double t_loop = median(k[2].wall), t_k32 = median(k[0].wall), t_k64 = median(k[1].wall);
  const double t_is = median(isc[0].wall), t_inc = median(inc[0].wall);
  fmt::print("\n| work | size | reps | median wall s | median CPU s | ratio (same run) | reference (Python, other run) |\n");
  fmt::print("| --- | --- | --- | --- | --- | --- | --- |\n");
  fmt::print("| FID statistics (both sets) | 2 x 10000 x 2048 | {} | {:.2f} | {:.2f} | | |\n", f[0].wall.size(),
             t_stats, median(f[0].cpu));
  fmt::print("| FID distance, symmetric eigh (ours) | 2048 | {} | {:.2f} | {:.2f} | 1 | |\n", f[1].wall.size(), t_sym,
             median(f[1].cpu));
  fmt::print("| FID distance, Denman-Beavers sqrtm | 2048 | {} | {:.2f} | {:.2f} | {:.2f}x ours | scipy sqrtm {:.1f} s |\n",
             f[2].wall.size(), t_db, median(f[2].cpu), t_db / t_sym, kRefSqrtm);
  fmt::print("| FID total (statistics + distance), ours | | | {:.2f} | | 1 | {:.1f} s |\n", t_stats + t_sym, kRefFid);
  fmt::print("| FID total, general sqrtm | | | {:.2f} | | {:.2f}x ours | |\n", t_stats + t_db,
             (t_stats + t_db) / (t_stats + t_sym));
  fmt::print("| KID one subset, ours float32 products | 1000 x 2048 | {} | {:.3f} | {:.3f} | 1 | |\n", k[0].wall.size(),
             t_k32, median(k[0].cpu));
  fmt::print("| KID one subset, ours float64 products | 1000 x 2048 | {} | {:.3f} | {:.3f} | {:.2f}x ours-f32 | |\n",
             k[1].wall.size(), t_k64, median(k[1].cpu), t_k64 / t_k32);
  fmt::print("| KID one subset, plain float64 loop | 1000 x 2048 | {} | {:.3f} | {:.3f} | {:.1f}x ours-f32, {:.1f}x ours-f64 | |\n",
             k[2].wall.size(), t_loop, median(k[2].cpu), t_loop / t_k32, t_loop / t_k64);
  fmt::print("| KID 100 subsets, ours float32 products (measured once) | 100 x 1000 | 1 | {:.2f} | {:.2f} | | {:.1f} s |\n",
             t_kid_all, c_kid_all, kRefKid);
  fmt::print("| KID 100 subsets, plain float64 loop (100 x its median) | 100 x 1000 | | {:.0f} | | {:.1f}x ours | |\n",
             100 * t_loop, 100 * t_loop / t_kid_all);
  fmt::print("| IS, 10 splits | 10000 x 1008 | {} | {:.3f} | {:.3f} | | {:.1f} s |\n", isc[0].wall.size(), t_is,
             median(isc[0].cpu), kRefIs);
  fmt::print("| FID Inception features | {} images, 128 -> 299 px | {} | {:.2f} | {:.2f} | {:.2f} images/s | |\n", B,
             inc[0].wall.size(), t_inc, median(inc[0].cpu), B / t_inc);
  fmt::print("\nload average (1 min) over the rounds: min {:.2f}, median {:.2f}, max {:.2f}; at the end {:.2f}; "
             "{} CPUs\n",
             *std::min_element(loads.begin(), loads.end()), median(loads),
             *std::max_element(loads.begin(), loads.end()), load1(), std::thread::hardware_concurrency());
  fmt::print("total benchmark time: {:.0f} s\n", now() - t_start);
  return 0;
}
