#include "metrics/numpy_random.h"

#include <doctest/doctest.h>

#include "reference_fixture.h"

using sg::metrics::NumpyRandomState;
namespace fx = sg::metrics::fixture;

TEST_CASE("NumpyRandomState reproduces numpy's MT19937 stream and permutation") {
  // numpy 1.24: RandomState(2020).randint(0, 2**32, size=3, dtype=np.uint64) and
  // RandomState(2020).permutation(10).
  NumpyRandomState rng(2020);
  CHECK(rng.next_uint32() == 4236026720u);
  CHECK(rng.next_uint32() == 639299976u);
  CHECK(rng.next_uint32() == 3751189827u);
  CHECK(NumpyRandomState(2020).permutation(10) ==
        std::vector<int64_t>{2, 4, 9, 1, 5, 7, 6, 3, 8, 0});
  // The reference MT19937 output for the classic seed 5489 (Matsumoto & Nishimura).
  CHECK(NumpyRandomState(5489).next_uint32() == 3499211612u);
}

TEST_CASE("NumpyRandomState draws the reference's Inception-Score permutations") {
  for (const char* set : {"small", "full"}) {
    const auto want = fx::indices()[set]["is_permutation"].get<std::vector<int64_t>>();
    CHECK(NumpyRandomState(2020).permutation(static_cast<int64_t>(want.size())) == want);
  }
}

TEST_CASE("choice without replacement is the head of a permutation and rejects oversize") {
  auto head = NumpyRandomState(7).choice_without_replacement(1000, 10);
  auto perm = NumpyRandomState(7).permutation(1000);
  CHECK(head == std::vector<int64_t>(perm.begin(), perm.begin() + 10));
  CHECK_THROWS(NumpyRandomState(7).choice_without_replacement(3, 4));
}
