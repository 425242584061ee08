#pragma once
// Exponential moving average of the generator's parameters, as torch_ema (spec §6.6):
// shadow -= (1 - d_t)(shadow - param), d_t = min(decay, (1 + n) / (10 + n)), n counted from 1.
#include <ATen/ATen.h>

#include <vector>

namespace sg::model {

struct Ema {
  double decay = 0.999;
  int64_t num_updates = 0;
  std::vector<at::Tensor> shadow;     // one per parameter, in parameters() order (spec §11)
  std::vector<at::Tensor> collected;  // what store() saved, for restore()
};

// Shadows start as copies of `params` (detached).
Ema make_ema(const std::vector<at::Tensor>& params, double decay);
// The decay the (n)th update uses (n >= 1).
double ema_decay_at(double decay, int64_t n);
void ema_update(Ema& ema, const std::vector<at::Tensor>& params);
// Save the current parameters, write the shadows into them, and put them back.
void ema_store(Ema& ema, const std::vector<at::Tensor>& params);
void ema_copy_to(const Ema& ema, const std::vector<at::Tensor>& params);
void ema_restore(Ema& ema, const std::vector<at::Tensor>& params);

}  // namespace sg::model
