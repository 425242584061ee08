#pragma once
// Items dealt over the ranks in rounds, so that a stop wanted on one rank stops all of them soon.
#include <cstdint>
#include <functional>

namespace sg::mpi {

// Items 0..count-1, item i on rank i mod size, in rounds of one item per rank. Every round opens
// with a vote every rank takes part in (a rank with no item in the last round too), counted one
// round later: a rank whose `stop()` is true does no more items, and the others stop after the
// item in hand (at most one more than it did), instead of doing the rest of theirs first.
// Counting a round's vote only once the next round starts lets the ranks drift by up to an item:
// voting and counting at once held every rank to the slowest one's pace, round after round
// (sharding on 2 ranks lost ~5 % to it). `item(i)` does item i on this rank. Returns true when a
// stop cut the rounds short (every rank gets the same answer), false when all were done. A
// collective: every rank calls it with the same count. The votes sleep while they wait
// (PendingVote), so it suits items of a millisecond or more.
bool for_each_round(int64_t count, const std::function<bool()>& stop, const std::function<void(int64_t)>& item);

}  // namespace sg::mpi
