#pragma once
// "Formula weights": the counter-based generator the parity fixtures use instead of storing
// weights (../shared/fixtures/lpips/README.md, ../shared/fixtures/train_step/README.md). Every
// value is exact in double and rounded once to float32, so any correct implementation gets the
// fixture's bits; the per-tensor checksum below lets a test tell a formula bug (wrong bits) from
// a network bug (right weights, wrong outputs).
//
//   s0 = fnv1a64(name) ^ seed
//   z_i = mix64(s0 + (i + 1) * 0x9E3779B97F4A7C15)        (the (i+1)-th splitmix64 output)
//   k_i = int64(z_i >> 40) - 2^23                          (top 24 bits, centred)
//   value_i = float32(mean + double(k_i) * 2^-(23 + e))
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace sg::test {

inline uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ull;
  return h;
}

// splitmix64's finaliser (all arithmetic mod 2^64, logical shifts).
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline uint64_t formula_stream_start(std::string_view name, uint64_t seed) { return fnv1a64(name) ^ seed; }

// k_i for i = 0 .. n-1: integers in [-2^23, 2^23).
inline std::vector<int64_t> formula_ints(std::string_view name, uint64_t seed, int64_t n) {
  const uint64_t s0 = formula_stream_start(name, seed);
  std::vector<int64_t> k(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    k[static_cast<size_t>(i)] = static_cast<int64_t>(mix64(s0 + static_cast<uint64_t>(i + 1) * 0x9E3779B97F4A7C15ull) >> 40) - 8388608;
  return k;
}

// The float32 tensor of `shape` for `name`: uniform on [mean - 2^-e, mean + 2^-e), row-major.
inline torch::Tensor formula_tensor(std::string_view name, at::IntArrayRef shape, uint64_t seed, int e,
                                    double mean = 0.0) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  const std::vector<int64_t> k = formula_ints(name, seed, n);
  const double step = std::ldexp(1.0, -(23 + e));
  torch::Tensor t = torch::empty(shape, torch::kFloat);
  float* p = t.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) p[i] = static_cast<float>(mean + static_cast<double>(k[static_cast<size_t>(i)]) * step);
  return t;
}

// The fixtures' per-tensor checksum: sum over i of mix64((i << 32) | bits_i) mod 2^64, bits_i
// the float32 bit pattern of element i (row-major).
inline uint64_t formula_checksum(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kFloat).contiguous();
  const float* p = c.data_ptr<float>();
  uint64_t sum = 0;
  for (int64_t i = 0; i < c.numel(); ++i) {
    uint32_t bits;
    std::memcpy(&bits, p + i, 4);
    sum += mix64((static_cast<uint64_t>(i) << 32) | bits);
  }
  return sum;
}

// The train-step fixture's signature of a large tensor: [sum, sum of squares, dot(x, v1),
// dot(x, v2)] accumulated in float64 over the float32 values in row-major order, with
// v_j[i] = k_i * 2^-23 from the formula for name "signature.<j>" and `seed` (signature.seed).
struct Signature {
  double sum = 0, sumsq = 0, dot1 = 0, dot2 = 0;
};

// v_j for j = 1, 2, as doubles (exact); the same prefix serves every tensor of n elements or fewer.
inline std::vector<double> signature_vector(int j, uint64_t seed, int64_t n) {
  const std::vector<int64_t> k = formula_ints("signature." + std::to_string(j), seed, n);
  std::vector<double> v(k.size());
  for (size_t i = 0; i < k.size(); ++i) v[i] = std::ldexp(static_cast<double>(k[i]), -23);
  return v;
}

// `v1`, `v2` from signature_vector with at least x.numel() elements.
inline Signature signature_of(const torch::Tensor& x, const std::vector<double>& v1, const std::vector<double>& v2) {
  const torch::Tensor c = x.detach().to(torch::kCPU).to(torch::kFloat).contiguous();
  const float* p = c.data_ptr<float>();
  const int64_t n = c.numel();
  TORCH_CHECK(static_cast<int64_t>(v1.size()) >= n && static_cast<int64_t>(v2.size()) >= n,
              "signature_of: signature vectors shorter than the tensor (", n, " elements)");
  Signature s;
  for (int64_t i = 0; i < n; ++i) {
    const double v = p[i];
    s.sum += v;
    s.sumsq += v * v;
    s.dot1 += v * v1[static_cast<size_t>(i)];
    s.dot2 += v * v2[static_cast<size_t>(i)];
  }
  return s;
}

inline Signature signature_of(const torch::Tensor& x, uint64_t seed) {
  const int64_t n = x.numel();
  return signature_of(x, signature_vector(1, seed, n), signature_vector(2, seed, n));
}

}  // namespace sg::test
