#include "mpi/rounds.h"

#include "mpi/mpi.h"

namespace sg::mpi {

bool for_each_round(int64_t count, const std::function<bool()>& stop, const std::function<void(int64_t)>& item) {
  const int r = rank(), n = size();
  const int64_t rounds = (count + n - 1) / n;
  PendingVote counted;  // the previous round's vote
  bool stopped = false;
  for (int64_t round = 0; round < rounds; ++round) {
    const bool mine = stop();
    PendingVote vote = PendingVote::start(mine);
    if (counted.active() && counted.wait()) return true;  // (vote is waited for as it goes)
    counted = std::move(vote);
    if (mine) {
      stopped = true;  // no more items here; the next round's count stops everyone
      continue;
    }
    const int64_t i = round * n + r;
    if (i < count) item(i);
  }
  return (counted.active() && counted.wait()) || stopped;
}

}  // namespace sg::mpi
