#include "train/grad_sync.h"

#include "mpi/mpi.h"

namespace sg::train {

void broadcast_tensors(const std::vector<at::Tensor>& tensors) {
  if (mpi::size() <= 1) return;
  at::NoGradGuard g;
  for (const at::Tensor& t : tensors) {
    at::Tensor c = t.detach().to(at::kCPU).contiguous();
    mpi::broadcast(c.data_ptr(), static_cast<int64_t>(c.numel() * c.element_size()), 0);
    t.detach().copy_(c);
  }
}

void allreduce_mean_grads(const std::vector<at::Tensor>& params, int64_t bucket_floats) {
  const int world = mpi::size();
  if (world <= 1) return;
  at::NoGradGuard g;
  std::vector<at::Tensor> grads;
  for (const at::Tensor& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  size_t i = 0;
  while (i < grads.size()) {
    // One bucket: consecutive gradients up to bucket_floats (a bigger one travels alone).
    size_t j = i;
    int64_t n = 0;
    while (j < grads.size() && (j == i || n + grads[j].numel() <= bucket_floats)) n += grads[j++].numel();
    std::vector<at::Tensor> flat;
    for (size_t k = i; k < j; ++k) flat.push_back(grads[k].reshape({-1}).to(at::kCPU, at::kFloat));
    at::Tensor buf = at::cat(flat).contiguous();
    mpi::allreduce_sum(buf.data_ptr<float>(), buf.numel());
    buf.div_(world);
    int64_t off = 0;
    for (size_t k = i; k < j; ++k) {
      const int64_t m = grads[k].numel();
      grads[k].copy_(buf.slice(0, off, off + m).view(grads[k].sizes()));
      off += m;
    }
    i = j;
  }
}

}  // namespace sg::train
