#include "metrics/numpy_random.h"

#include <fmt/format.h>

#include <numeric>
#include <stdexcept>
#include <utility>

namespace sg::metrics {

namespace {
constexpr int kN = 624;
constexpr int kM = 397;
constexpr uint32_t kMatrixA = 0x9908b0dfu;
constexpr uint32_t kUpper = 0x80000000u;
constexpr uint32_t kLower = 0x7fffffffu;
}  // namespace

NumpyRandomState::NumpyRandomState(uint32_t seed) {
  // init_genrand, as numpy's mt19937_seed does for an integer seed.
  for (int i = 0; i < kN; ++i) {
    key_[i] = seed;
    seed = 1812433253u * (seed ^ (seed >> 30)) + static_cast<uint32_t>(i + 1);
  }
  pos_ = kN;
}

void NumpyRandomState::refill() {
  int i = 0;
  for (; i < kN - kM; ++i) {
    const uint32_t y = (key_[i] & kUpper) | (key_[i + 1] & kLower);
    key_[i] = key_[i + kM] ^ (y >> 1) ^ ((y & 1u) ? kMatrixA : 0u);
  }
  for (; i < kN - 1; ++i) {
    const uint32_t y = (key_[i] & kUpper) | (key_[i + 1] & kLower);
    key_[i] = key_[i + (kM - kN)] ^ (y >> 1) ^ ((y & 1u) ? kMatrixA : 0u);
  }
  const uint32_t y = (key_[kN - 1] & kUpper) | (key_[0] & kLower);
  key_[kN - 1] = key_[kM - 1] ^ (y >> 1) ^ ((y & 1u) ? kMatrixA : 0u);
  pos_ = 0;
}

uint32_t NumpyRandomState::next_uint32() {
  if (pos_ == kN) refill();
  uint32_t y = key_[pos_++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= y >> 18;
  return y;
}

uint64_t NumpyRandomState::interval(uint64_t max) {
  if (max == 0) return 0;
  uint64_t mask = max;
  mask |= mask >> 1;
  mask |= mask >> 2;
  mask |= mask >> 4;
  mask |= mask >> 8;
  mask |= mask >> 16;
  mask |= mask >> 32;
  uint64_t value;
  if (max <= 0xffffffffull) {
    while ((value = (next_uint32() & mask)) > max) {
    }
  } else {
    // next_uint64 of MT19937 in numpy: two draws, high word first.
    auto next64 = [this] {
      const uint64_t hi = next_uint32();
      return (hi << 32) | next_uint32();
    };
    while ((value = (next64() & mask)) > max) {
    }
  }
  return value;
}

std::vector<int64_t> NumpyRandomState::permutation(int64_t n) {
  if (n < 0) throw std::invalid_argument(fmt::format("permutation of a negative count {}", n));
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), int64_t{0});
  for (int64_t i = n - 1; i >= 1; --i) {
    const auto j = static_cast<int64_t>(interval(static_cast<uint64_t>(i)));
    std::swap(v[static_cast<size_t>(i)], v[static_cast<size_t>(j)]);
  }
  return v;
}

std::vector<int64_t> NumpyRandomState::choice_without_replacement(int64_t n, int64_t size) {
  if (size > n || size < 0)
    throw std::invalid_argument(
        fmt::format("cannot choose {} of {} items without replacement", size, n));
  auto p = permutation(n);
  p.resize(static_cast<size_t>(size));
  return p;
}

}  // namespace sg::metrics
