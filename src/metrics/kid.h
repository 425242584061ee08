#pragma once
// Kernel Inception Distance as torch-fidelity 0.2.0 defines it (spec §10.3): the unbiased MMD^2
// with the polynomial kernel k(x, y) = (gamma x.y + coef0)^degree, averaged over random subsets
// drawn by NumPy RandomState(seed).choice — per subset the rows of set 1, then of set 2 — so the
// subsets are the reference's. Reported: mean and population std over the subsets.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace sg::metrics {

struct KidOptions {
  int64_t subsets = 100;
  int64_t subset_size = 1000;
  int degree = 3;
  double gamma = 0;  // 0: 1 / feature width, torch-fidelity's default
  double coef0 = 1;
  uint32_t seed = 2020;
  // The Gram products x.y in float64 GEMMs instead of float32 ones. Everything after the
  // products (kernel, sums) is float64 either way. float32 products are twice as fast and stay
  // within ~3e-8 relative of the all-float64 value on the reference fixture (the rounding of
  // each product is unbiased and averages out over the 10^6 kernel entries) — closer to it
  // than torch-fidelity itself, whose float32 sums land ~1e-6 away.
  bool float64_products = false;
};

struct KidSubset {
  std::vector<int64_t> rows1, rows2;  // rows of set 1 and of set 2
};

struct KidResult {
  double mean = 0;
  double std = 0;  // population std (numpy.std)
  std::vector<double> mmds;
};

// The reference's subsets for sets of n1 and n2 rows. ConfigError if subset_size exceeds either.
std::vector<KidSubset> kid_subsets(int64_t n1, int64_t n2, const KidOptions& options);

// Unbiased MMD^2 between (m, d) x and (m, d) y; products as KidOptions::float64_products says,
// kernel values and sums in float64.
double mmd2_polynomial(const at::Tensor& x, const at::Tensor& y, int degree, double gamma,
                       double coef0, bool float64_products = false);

KidResult kernel_inception_distance(const at::Tensor& features1, const at::Tensor& features2,
                                    const KidOptions& options = {});
// The same over given subsets (e.g. ones stored with a reference).
KidResult kernel_inception_distance(const at::Tensor& features1, const at::Tensor& features2,
                                    const std::vector<KidSubset>& subsets,
                                    const KidOptions& options = {});

}  // namespace sg::metrics
