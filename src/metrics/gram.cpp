#include "metrics/gram.h"

#include <ATen/ATen.h>

#include <algorithm>

namespace sg::metrics {

at::Tensor gram_of_columns(const at::Tensor& x) {
  constexpr int64_t kBlock = 256;
  const int64_t d = x.size(1);
  at::Tensor out = at::empty({d, d}, x.options());
  for (int64_t i0 = 0; i0 < d; i0 += kBlock) {
    const int64_t i1 = std::min(d, i0 + kBlock);
    const at::Tensor panel = at::mm(x.slice(1, i0, i1).t(), x.slice(1, i0, d));  // (b, d - i0)
    out.slice(0, i0, i1).slice(1, i0, d).copy_(panel);
    out.slice(0, i0, d).slice(1, i0, i1).copy_(panel.t());
  }
  return out;
}

}  // namespace sg::metrics
