// Seeded FID-Inception weights for the benchmarks that run the network (bench_eval,
// bench_metrics). Apart from bench_util.h because it needs the metrics headers, which the
// benches that do not run Inception need not compile.
#pragma once

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "metrics/fid_inception.h"

namespace sg::bench {

// Seeded weights of a plausible scale (He-normal convolutions, BatchNorm near identity, a small
// fc), so activations stay finite and non-trivial through all 94 layers: the placeholder zeros
// would make every activation after the first layer zero, which is not what the real network
// computes. Speed does not depend on the values otherwise; nothing is downloaded.
inline void seeded_inception_weights(metrics::FidInception& net, uint64_t seed) {
  at::NoGradGuard no_grad;
  at::manual_seed(seed);
  for (auto& p : net.module().named_parameters(/*recurse=*/true)) {
    const std::string& name = p.key();
    at::Tensor& t = p.value();
    if (t.dim() == 4) {  // conv weight (out, in, kh, kw)
      const double fan_in = static_cast<double>(t.size(1) * t.size(2) * t.size(3));
      t.normal_(0, std::sqrt(2.0 / fan_in));
    } else if (name.find("bn.weight") != std::string::npos) {
      t.uniform_(0.8, 1.2);
    } else if (name.find("bn.bias") != std::string::npos) {
      t.normal_(0, 0.05);
    } else if (name == "fc.weight") {
      t.normal_(0, 0.01);
    } else {
      t.zero_();
    }
  }
}

}  // namespace sg::bench
