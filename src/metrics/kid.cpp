#include "metrics/kid.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cmath>

#include "core/error.h"
#include "core/progress.h"
#include "metrics/gram.h"
#include "metrics/numpy_random.h"

namespace sg::metrics {

namespace {

at::Tensor rows(const at::Tensor& features, const std::vector<int64_t>& index) {
  const at::Tensor idx =
      at::from_blob(const_cast<int64_t*>(index.data()), {static_cast<int64_t>(index.size())},
                    at::kLong)
          .clone();
  return features.index_select(0, idx);
}

// (gamma * a b^T + coef0)^degree, in place on the float64 Gram matrix.
at::Tensor polynomial_kernel(const at::Tensor& a, const at::Tensor& b, int degree, double gamma,
                             double coef0) {
  // a a^T is symmetric: half the GEMM work.
  at::Tensor k = (a.is_same(b) ? gram_of_columns(a.t()) : at::mm(a, b.t())).to(at::kDouble);
  k.mul_(gamma).add_(coef0);
  if (degree == 3) return k.mul(k).mul_(k);  // the default: two multiplies, not pow()
  return k.pow(degree);
}

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

double population_std(const std::vector<double>& v) {
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size()));
}

}  // namespace

std::vector<KidSubset> kid_subsets(int64_t n1, int64_t n2, const KidOptions& options) {
  if (options.subsets < 1)
    throw ConfigError(fmt::format("kid_subsets must be at least 1, got {}", options.subsets));
  if (options.subset_size < 2 || options.subset_size > n1 || options.subset_size > n2)
    throw ConfigError(fmt::format(
        "kid_subset_size {} must be at least 2 and at most the size of each feature set ({} and "
        "{}); lower kid_subset_size or use more images",
        options.subset_size, n1, n2));
  NumpyRandomState rng(options.seed);
  std::vector<KidSubset> out(static_cast<size_t>(options.subsets));
  for (auto& s : out) {
    s.rows1 = rng.choice_without_replacement(n1, options.subset_size);
    s.rows2 = rng.choice_without_replacement(n2, options.subset_size);
  }
  return out;
}

double mmd2_polynomial(const at::Tensor& x, const at::Tensor& y, int degree, double gamma,
                       double coef0, bool float64_products) {
  if (x.dim() != 2 || y.dim() != 2 || x.sizes() != y.sizes())
    throw FormatError("MMD needs two (m, d) feature sets of one shape");
  const int64_t m = x.size(0);
  if (m < 2) throw FormatError("MMD needs at least 2 rows per set");
  const auto dtype = float64_products ? at::kDouble : at::kFloat;
  const at::Tensor a = x.to(dtype).contiguous();
  const at::Tensor b = y.to(dtype).contiguous();
  const at::Tensor kxx = polynomial_kernel(a, a, degree, gamma, coef0);
  const at::Tensor kyy = polynomial_kernel(b, b, degree, gamma, coef0);
  const at::Tensor kxy = polynomial_kernel(a, b, degree, gamma, coef0);
  const double sum_xx = kxx.sum().item<double>() - kxx.diagonal().sum().item<double>();
  const double sum_yy = kyy.sum().item<double>() - kyy.diagonal().sum().item<double>();
  const double sum_xy = kxy.sum().item<double>();
  const double md = static_cast<double>(m);
  return (sum_xx + sum_yy) / (md * (md - 1)) - 2.0 * sum_xy / (md * md);
}

KidResult kernel_inception_distance(const at::Tensor& features1, const at::Tensor& features2,
                                    const KidOptions& options) {
  if (features1.dim() != 2 || features2.dim() != 2)
    throw FormatError("KID needs two (n, d) feature tensors");
  return kernel_inception_distance(
      features1, features2, kid_subsets(features1.size(0), features2.size(0), options), options);
}

KidResult kernel_inception_distance(const at::Tensor& features1, const at::Tensor& features2,
                                    const std::vector<KidSubset>& subsets,
                                    const KidOptions& options) {
  if (features1.dim() != 2 || features2.dim() != 2 || features1.size(1) != features2.size(1))
    throw FormatError(fmt::format("KID needs two (n, d) feature tensors of one width"));
  if (subsets.empty()) throw ConfigError("KID needs at least one subset");
  const double gamma =
      options.gamma > 0 ? options.gamma : 1.0 / static_cast<double>(features1.size(1));
  KidResult r;
  r.mmds.reserve(subsets.size());
  Progress progress("KID subsets", static_cast<int64_t>(subsets.size()), "subsets");
  for (const auto& s : subsets) {
    r.mmds.push_back(mmd2_polynomial(rows(features1, s.rows1), rows(features2, s.rows2),
                                     options.degree, gamma, options.coef0,
                                     options.float64_products));
    progress.advance();
  }
  progress.finish();
  r.mean = mean_of(r.mmds);
  r.std = population_std(r.mmds);
  return r;
}

}  // namespace sg::metrics
