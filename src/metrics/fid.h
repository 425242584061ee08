#pragma once
// Fréchet Inception Distance as torch-fidelity 0.2.0 and pytorch-fid 0.2.0 define it (spec §10.3):
//   FID = |mu1 - mu2|^2 + Tr S1 + Tr S2 - 2 Tr sqrtm(S1 S2)
// with S the unbiased sample covariance, all in float64. Tr sqrtm(S1 S2) is computed as the sum
// of square roots of the eigenvalues of sqrt(S1) S2 sqrt(S1) — a symmetric positive
// semi-definite matrix similar to S1 S2 — with two symmetric eigendecompositions instead of
// scipy's general Schur sqrtm: faster, and free of the complex round-off scipy has to discard.
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace sg::metrics {

struct FeatureStatistics {
  at::Tensor mean;  // (d) float64
  at::Tensor cov;   // (d, d) float64, unbiased (divided by n - 1), as numpy.cov
  int64_t count = 0;
};

// Mean and covariance of (n, d) features (any floating dtype; accumulated in float64). n >= 2.
FeatureStatistics feature_statistics(const at::Tensor& features);

struct FidTerms {
  double fid = 0;
  double diff_dot_diff = 0;  // |mu1 - mu2|^2
  double trace_sigma1 = 0;
  double trace_sigma2 = 0;
  double trace_covmean = 0;  // Tr sqrtm(S1 S2)
};

FidTerms frechet_distance(const FeatureStatistics& a, const FeatureStatistics& b);

// Tr sqrtm(S1 S2) for symmetric positive semi-definite S1, S2 (float64), by the symmetric route.
// Eigenvalues that round-off pushes below zero count as zero, as taking the real part of
// scipy's complex sqrtm does.
double trace_sqrt_product(const at::Tensor& sigma1, const at::Tensor& sigma2);

// The principal square root of a general square matrix with no eigenvalues on the closed
// negative real axis (scaled Denman-Beavers iteration, float64): the general-purpose route the
// symmetric one is checked and benchmarked against.
at::Tensor sqrtm_denman_beavers(const at::Tensor& a, int max_iterations = 100,
                                double tolerance = 1e-13);

}  // namespace sg::metrics
