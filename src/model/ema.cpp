#include "model/ema.h"

#include <algorithm>

#include "core/error.h"

namespace sg::model {

namespace {

void check_sizes(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b,
                 const char* what) {
  if (a.size() != b.size()) {
    throw StageError(std::string("EMA ") + what + ": " + std::to_string(a.size()) +
                     " shadow tensors for " + std::to_string(b.size()) + " parameters");
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].sizes() != b[i].sizes()) {
      throw StageError(std::string("EMA ") + what + ": tensor " + std::to_string(i) + " has shape " +
                       c10::str(a[i].sizes()) + " but the parameter has " + c10::str(b[i].sizes()));
    }
  }
}

}  // namespace

Ema make_ema(const std::vector<at::Tensor>& params, double decay) {
  Ema e;
  e.decay = decay;
  for (const auto& p : params) e.shadow.push_back(p.detach().clone());
  return e;
}

double ema_decay_at(double decay, int64_t n) {
  return std::min(decay, (1.0 + static_cast<double>(n)) / (10.0 + static_cast<double>(n)));
}

void ema_update(Ema& ema, const std::vector<at::Tensor>& params) {
  check_sizes(ema.shadow, params, "update");
  ema.num_updates += 1;
  const double one_minus = 1.0 - ema_decay_at(ema.decay, ema.num_updates);
  at::NoGradGuard g;
  for (size_t i = 0; i < params.size(); ++i) {
    ema.shadow[i].sub_(one_minus * (ema.shadow[i] - params[i].detach()));
  }
}

void ema_store(Ema& ema, const std::vector<at::Tensor>& params) {
  ema.collected.clear();
  for (const auto& p : params) ema.collected.push_back(p.detach().clone());
}

void ema_copy_to(const Ema& ema, const std::vector<at::Tensor>& params) {
  check_sizes(ema.shadow, params, "copy_to");
  at::NoGradGuard g;
  for (size_t i = 0; i < params.size(); ++i) params[i].detach().copy_(ema.shadow[i]);
}

void ema_restore(Ema& ema, const std::vector<at::Tensor>& params) {
  check_sizes(ema.collected, params, "restore");
  at::NoGradGuard g;
  for (size_t i = 0; i < params.size(); ++i) params[i].detach().copy_(ema.collected[i]);
}

}  // namespace sg::model
