#pragma once
// X^T X, the one product FID statistics and KID kernels spend their time in, computed as a
// symmetric matrix (what BLAS's SYRK does; LibTorch does not expose it).
#include <ATen/core/Tensor.h>

namespace sg::metrics {

// X^T X of an (n, d) matrix: one GEMM per 256-wide block row of the upper triangle, mirrored
// into the lower one — ~56% of a full GEMM's work at d = 2048. Strided views (X^T, column
// slices) reach BLAS as transposed operands without copies.
at::Tensor gram_of_columns(const at::Tensor& x);

}  // namespace sg::metrics
