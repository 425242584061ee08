#include "metrics/fid.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cmath>

#include "core/error.h"
#include "metrics/gram.h"

namespace sg::metrics {

namespace {

void require_matrix(const at::Tensor& t, const char* what) {
  if (!t.defined() || t.dim() != 2)
    throw FormatError(fmt::format("{}: expected a 2-D tensor, got {} dimensions", what,
                                  t.defined() ? t.dim() : 0));
}

double trace_of(const at::Tensor& m) { return m.diagonal().sum().item<double>(); }

}  // namespace

FeatureStatistics feature_statistics(const at::Tensor& features) {
  require_matrix(features, "feature statistics");
  const int64_t n = features.size(0);
  if (n < 2)
    throw FormatError(fmt::format("feature statistics need at least 2 samples, got {}", n));
  const at::Tensor x = features.to(at::kDouble).contiguous();
  FeatureStatistics s;
  s.count = n;
  s.mean = x.mean(0);
  const at::Tensor centred = x - s.mean;
  s.cov = gram_of_columns(centred).div_(static_cast<double>(n - 1));
  return s;
}

double trace_sqrt_product(const at::Tensor& sigma1, const at::Tensor& sigma2) {
  require_matrix(sigma1, "sigma1");
  require_matrix(sigma2, "sigma2");
  if (sigma1.sizes() != sigma2.sizes() || sigma1.size(0) != sigma1.size(1))
    throw FormatError(fmt::format("covariances must be square and of one size, got {}x{} and {}x{}",
                                  sigma1.size(0), sigma1.size(1), sigma2.size(0),
                                  sigma2.size(1)));
  const at::Tensor s1 = sigma1.to(at::kDouble);
  const at::Tensor s2 = sigma2.to(at::kDouble);
  // S1 = V diag(l) V^T. In that basis sqrt(S1) S2 sqrt(S1) is D (V^T S2 V) D with D = diag(sqrt l):
  // the same spectrum without forming sqrt(S1) explicitly (V is orthogonal).
  auto [lambda, v] = at::linalg_eigh(s1);
  const at::Tensor root = lambda.clamp_min(0).sqrt();
  at::Tensor m = at::mm(at::mm(v.t(), s2), v);
  m.mul_(root.unsqueeze(1)).mul_(root.unsqueeze(0));
  m = (m + m.t()).mul_(0.5);  // exact symmetry, so round-off cannot leak into the solver
  const at::Tensor mu = at::linalg_eigvalsh(m);
  return mu.clamp_min(0).sqrt().sum().item<double>();
}

FidTerms frechet_distance(const FeatureStatistics& a, const FeatureStatistics& b) {
  if (a.mean.size(0) != b.mean.size(0))
    throw FormatError(fmt::format("FID of features of different widths: {} and {}",
                                  a.mean.size(0), b.mean.size(0)));
  FidTerms t;
  const at::Tensor diff = a.mean.to(at::kDouble) - b.mean.to(at::kDouble);
  t.diff_dot_diff = diff.dot(diff).item<double>();
  t.trace_sigma1 = trace_of(a.cov);
  t.trace_sigma2 = trace_of(b.cov);
  t.trace_covmean = trace_sqrt_product(a.cov, b.cov);
  t.fid = t.diff_dot_diff + t.trace_sigma1 + t.trace_sigma2 - 2.0 * t.trace_covmean;
  return t;
}

at::Tensor sqrtm_denman_beavers(const at::Tensor& a, int max_iterations, double tolerance) {
  require_matrix(a, "sqrtm");
  const int64_t n = a.size(0);
  at::Tensor y = a.to(at::kDouble).clone();
  at::Tensor z = at::eye(n, y.options());
  double change = INFINITY;
  for (int k = 0; k < max_iterations; ++k) {
    // Determinant scaling (Higham, Functions of Matrices, eq. 6.28) makes the early iterations
    // converge fast; it is switched off near convergence, where it would only add round-off.
    // Log-determinants avoid overflow at d = 2048.
    double mu = 1.0;
    if (change > 1e-2) {
      const double logdet =
          std::get<1>(at::linalg_slogdet(y)).item<double>() + std::get<1>(at::linalg_slogdet(z)).item<double>();
      mu = std::exp(-logdet / (2.0 * static_cast<double>(n)));
    }
    const at::Tensor y_inv = at::linalg_inv(y);
    const at::Tensor z_inv = at::linalg_inv(z);
    const at::Tensor y_next = (y * mu + z_inv / mu) * 0.5;
    const at::Tensor z_next = (z * mu + y_inv / mu) * 0.5;
    const double previous = change;
    change = (y_next - y).norm().item<double>() / y_next.norm().item<double>();
    y = y_next;
    z = z_next;
    // Done when converged, or when round-off stops the changes from shrinking any further.
    if (change < tolerance || (change < 1e-9 && change >= previous)) return y;
  }
  throw StageError(fmt::format("sqrtm (Denman-Beavers) did not converge in {} iterations",
                               max_iterations));
}

}  // namespace sg::metrics
