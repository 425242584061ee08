#pragma once
// Items dealt over the ranks in rounds, so that a stop wanted on one rank stops all of them soon.
#include <cstdint>
#include <functional>

namespace sg::mpi {

// Items 0..count-1, item i on rank i mod size, in rounds of one item per rank. Every round opens
// with a vote every rank takes part in (a rank with no item in the last round too): when any
// rank's `stop()` is true, all ranks leave together before the round's items, instead of the
// others doing the rest of theirs first. `item(i)` does item i on this rank. Returns true when a
// vote stopped the rounds (every rank gets the same answer), false when all were done. A
// collective: every rank calls it with the same count. The vote sleeps while it waits
// (vote_or), so it suits items of a millisecond or more.
bool for_each_round(int64_t count, const std::function<bool()>& stop, const std::function<void(int64_t)>& item);

}  // namespace sg::mpi
