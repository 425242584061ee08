#include "mpi/rank_threads.h"

#include "mpi/mpi.h"

namespace sg::mpi {

ThreadChoice rank_threads(int requested) {
  const CpuLimits limits = read_cpu_limits();
  // Ranks bound to CPUs of their own (srun with task/affinity, mpirun --bind-to core) share with
  // none; unbound ranks of one host all see the same mask and divide it.
  const int sharing = ranks_with_key(processor_name() + " " + affinity_list());
  return threads_per_rank(limits, requested, sharing);
}

}  // namespace sg::mpi
