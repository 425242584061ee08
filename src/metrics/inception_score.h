#pragma once
// Inception Score as torch-fidelity 0.2.0 defines it (spec §10.3): rows of the (n, classes)
// logits_unbiased permuted by NumPy RandomState(seed).permutation(n), softmax in float64, split
// into `splits` consecutive chunks [i n / s, (i + 1) n / s) (integer division), per chunk
// exp(mean_rows KL(p || mean p)); reported as mean and population std over the chunks.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace sg::metrics {

struct InceptionScoreOptions {
  int64_t splits = 10;
  bool shuffle = true;
  uint32_t seed = 2020;
};

struct InceptionScoreResult {
  double mean = 0;
  double std = 0;
  std::vector<double> split_scores;
};

InceptionScoreResult inception_score(const at::Tensor& logits,
                                     const InceptionScoreOptions& options = {});

}  // namespace sg::metrics
