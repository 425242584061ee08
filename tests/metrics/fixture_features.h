#pragma once
// The feature sets of ../shared/fixtures/metrics/fid_reference.json, regenerated bit-exactly
// from integers by its feature_spec (splitmix64 hashes scaled by powers of two, exact in
// float32), so the 2 x 10000 x 2048 reference features need not be stored.
#include <ATen/ATen.h>

#include <cstdint>

namespace sg::metrics::fixture {

inline uint64_t splitmix64(uint64_t x) {
  uint64_t z = x + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline uint64_t u20(uint64_t stream, uint64_t k) { return splitmix64((stream << 40) | k) >> 44; }

// which = 1 or 2: features_1 / features_2, (n, d) float32.
inline at::Tensor features(int which, int64_t n, int64_t d) {
  at::Tensor t = at::empty({n, d}, at::kFloat);
  float* p = t.data_ptr<float>();
  const double scale = 1.0 / 4194304.0;  // 2^-22
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) {
      const uint64_t k = static_cast<uint64_t>(i * d + j);
      const uint64_t shared = static_cast<uint64_t>(i * 32 + j % 32);
      uint64_t v;
      if (which == 1)
        v = u20(11, k) + 3 * u20(12, shared);
      else
        v = u20(21, k) + 2 * u20(22, shared) + static_cast<uint64_t>(j % 7) * (1u << 17);
      p[i * d + j] = static_cast<float>(static_cast<double>(v) * scale);
    }
  return t;
}

// (n, classes) float32 logits with one boosted class per row.
inline at::Tensor logits(int64_t n, int64_t classes) {
  at::Tensor t = at::empty({n, classes}, at::kFloat);
  float* p = t.data_ptr<float>();
  const double scale = 1.0 / 262144.0;  // 2^-18
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t cls = splitmix64((32ull << 40) | static_cast<uint64_t>(i)) %
                         static_cast<uint64_t>(classes);
    for (int64_t c = 0; c < classes; ++c) {
      uint64_t v = u20(31, static_cast<uint64_t>(i * classes + c));
      if (static_cast<uint64_t>(c) == cls) v += 2u << 20;
      p[i * classes + c] = static_cast<float>(static_cast<double>(v) * scale);
    }
  }
  return t;
}

}  // namespace sg::metrics::fixture
