#pragma once
// The intra-op threads of this rank: its CPU limits (core/cpu_allocation.h) shared with the
// ranks that run on the same CPUs (same host, same affinity mask), found by asking every rank.
// A collective: every rank calls it.
#include "core/cpu_allocation.h"

namespace sg::mpi {

ThreadChoice rank_threads(int requested);

}  // namespace sg::mpi
