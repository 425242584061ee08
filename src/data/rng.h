#pragma once
// Per-sample random numbers: every sample's randomness is derived from (seed, sample index,
// stream) alone, never from a stream shared across samples, so a sample is the same whichever
// rank generates it and in whatever order. SplitMix64 turns the triple into the state of a
// xoshiro256** generator (both by Vigna; public-domain algorithms, written out here).
#include <cmath>
#include <cstdint>

namespace sg::data {

class Rng {
 public:
  Rng(uint64_t seed, uint64_t index, uint64_t stream) {
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL ^ (index + 0x632BE59BD9B4E019ULL) * 0xBF58476D1CE4E5B9ULL ^
                 (stream + 1) * 0x94D049BB133111EBULL;
    for (auto& s : s_) s = splitmix(x);
  }
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Standard normal (Box-Muller; one value per call keeps the stream position obvious).
  double normal() {
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  uint64_t below(uint64_t n) { return next() % n; }  // bias < 2^-40 for the n used here

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  uint64_t s_[4];
};

}  // namespace sg::data
