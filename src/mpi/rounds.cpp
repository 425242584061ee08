#include "mpi/rounds.h"

#include "mpi/mpi.h"

namespace sg::mpi {

bool for_each_round(int64_t count, const std::function<bool()>& stop, const std::function<void(int64_t)>& item) {
  const int r = rank(), n = size();
  const int64_t rounds = (count + n - 1) / n;
  for (int64_t round = 0; round < rounds; ++round) {
    if (vote_or(stop())) return true;
    const int64_t i = round * n + r;
    if (i < count) item(i);
  }
  return false;
}

}  // namespace sg::mpi
