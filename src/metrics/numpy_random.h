#pragma once
// NumPy's legacy RandomState (MT19937), only as far as torch-fidelity uses it: the KID subsets
// come from RandomState(2020).choice(n, m, replace=False) and the Inception-Score rows from
// RandomState(2020).permutation(n). Reproducing the stream exactly makes our subsets and splits
// the reference's, so KID and IS match it to round-off rather than to sampling noise.
#include <cstdint>
#include <vector>

namespace sg::metrics {

class NumpyRandomState {
 public:
  explicit NumpyRandomState(uint32_t seed);  // RandomState(seed) for an integer seed

  uint32_t next_uint32();  // MT19937 genrand_int32
  // numpy's random_interval: a uniform integer in [0, max] by masked rejection.
  uint64_t interval(uint64_t max);
  // RandomState.permutation(n): arange(n) shuffled by Fisher-Yates from the end.
  std::vector<int64_t> permutation(int64_t n);
  // RandomState.choice(n, size, replace=False): the first `size` entries of permutation(n).
  std::vector<int64_t> choice_without_replacement(int64_t n, int64_t size);

 private:
  void refill();
  uint32_t key_[624];
  int pos_;
};

}  // namespace sg::metrics
