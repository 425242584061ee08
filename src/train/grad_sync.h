#pragma once
// Data-parallel plumbing over MPI (design.md "Training over MPI"): the initial parameters come
// from rank 0, and gradients are averaged over ranks by all-reducing flattened float buckets
// (one MPI call per bucket instead of one per tensor). With one rank both are no-ops.
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace sg::train {

// Rank 0's values of `tensors` (parameters or buffers) copied into every rank's.
void broadcast_tensors(const std::vector<at::Tensor>& tensors);

// Average the defined gradients of `params` over all ranks (sum, then divide by the rank
// count), `bucket_floats` floats per all-reduce. Every rank must have the same gradients
// defined (they do: the ranks run the same model at the same resolution). Undefined gradients
// stay undefined, as DDP leaves an unused parameter's .grad None.
void allreduce_mean_grads(const std::vector<at::Tensor>& params,
                          int64_t bucket_floats = int64_t(4) << 20);

}  // namespace sg::train
