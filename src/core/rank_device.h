#pragma once
// Which device a rank computes on. `device = "cuda"` on a node with several GPUs gives each
// rank of that node its own (local rank modulo the device count) instead of every rank piling
// onto cuda:0. Pure functions of their inputs, so the mapping is tested without a GPU.
#include <string>

namespace sg {

// This rank's index among the ranks of its node, from the launcher's environment:
// OMPI_COMM_WORLD_LOCAL_RANK (mpirun), else SLURM_LOCALID (srun), else 0. A value that is not a
// non-negative integer counts as absent.
int local_rank_from(const char* ompi_local_rank, const char* slurm_localid);
int local_rank();  // the same from this process's environment

// "cuda" -> "cuda:<local_rank % device_count>"; "cpu" and an explicit "cuda:N" stay as given.
// device_count < 1 leaves "cuda" as it is (the caller reports that no device exists).
std::string rank_device(const std::string& device, int local_rank, int device_count);

}  // namespace sg
