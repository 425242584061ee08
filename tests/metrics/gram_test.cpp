#include "metrics/gram.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <doctest/doctest.h>

TEST_CASE("gram_of_columns equals X^T X for widths around the block size, and views") {
  at::Generator gen = at::detail::createCPUGenerator(5);
  for (const int64_t d : {1, 255, 256, 257, 600}) {
    const at::Tensor x = at::randn({123, d}, gen, at::TensorOptions(at::kDouble));
    const at::Tensor want = at::mm(x.t(), x);
    CHECK((sg::metrics::gram_of_columns(x) - want).abs().max().item<double>() <
          1e-12 * want.abs().max().item<double>());
    // A transposed view: X X^T (what the KID kernels use).
    const at::Tensor rows = at::mm(x, x.t());
    CHECK((sg::metrics::gram_of_columns(x.t()) - rows).abs().max().item<double>() <
          1e-12 * rows.abs().max().item<double>());
  }
}
