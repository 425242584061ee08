#include "metrics/inception_score.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cmath>

#include "core/error.h"
#include "metrics/numpy_random.h"

namespace sg::metrics {

InceptionScoreResult inception_score(const at::Tensor& logits,
                                     const InceptionScoreOptions& options) {
  if (logits.dim() != 2) throw FormatError("Inception Score needs (n, classes) logits");
  const int64_t n = logits.size(0);
  if (options.splits < 1 || options.splits > n)
    throw ConfigError(fmt::format("isc_splits must be between 1 and the number of images ({}), "
                                  "got {}",
                                  n, options.splits));
  at::Tensor x = logits;
  if (options.shuffle) {
    auto perm = NumpyRandomState(options.seed).permutation(n);
    x = x.index_select(0, at::from_blob(perm.data(), {n}, at::kLong).clone());
  }
  x = x.to(at::kDouble);
  const at::Tensor p = x.softmax(1);
  const at::Tensor log_p = x.log_softmax(1);
  InceptionScoreResult r;
  for (int64_t i = 0; i < options.splits; ++i) {
    const int64_t begin = i * n / options.splits;
    const int64_t end = (i + 1) * n / options.splits;
    const at::Tensor pc = p.slice(0, begin, end);
    const at::Tensor q = pc.mean(0, /*keepdim=*/true);
    const at::Tensor kl = pc * (log_p.slice(0, begin, end) - q.log());
    r.split_scores.push_back(kl.sum(1).mean().exp().item<double>());
  }
  double s = 0;
  for (double v : r.split_scores) s += v;
  r.mean = s / static_cast<double>(r.split_scores.size());
  double ss = 0;
  for (double v : r.split_scores) ss += (v - r.mean) * (v - r.mean);
  r.std = std::sqrt(ss / static_cast<double>(r.split_scores.size()));
  return r;
}

}  // namespace sg::metrics
