#pragma once
// Whether EMA shadows fit a model: one shadow per parameter, in parameters() order, each of its
// parameter's shape. Checked before any copy, which would otherwise fail with LibTorch's trace
// or, worse, broadcast a smaller tensor silently.
#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

#include "weights/ema.h"

namespace sg::weights {

// FormatError naming `source` and every missing, extra or misshapen tensor (its parameter name,
// both shapes) unless `ema` matches `params` (name, tensor; in parameters() order).
void check_ema_shapes(const std::vector<std::pair<std::string, at::Tensor>>& params, const EmaState& ema,
                      const std::string& source);

}  // namespace sg::weights
