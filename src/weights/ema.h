#pragma once
// The reference's ema.pth / ema2.pth (spec §6.6, §6.9): torch.save of a torch_ema
// ExponentialMovingAverage object, whose shadow_params list follows the generator's
// parameters() order (spec §11), i.e. the order of state_dict_of() restricted to parameters.
//
// What write_ema writes: torch_ema's class cannot be pickled without Python, so ours is a plain
// dict {"decay": float, "num_updates": int or None, "shadow_params": [tensors],
// "collected_params": [tensors]}, which read_ema reads as well. In Python, with the generator
// built and torch_ema imported, turn it back into the reference's object with:
//   d = torch.load('ema.pth', map_location='cpu')
//   ema = ExponentialMovingAverage(generator.parameters(), d['decay'])
//   ema.num_updates, ema.shadow_params, ema.collected_params = d['num_updates'], d['shadow_params'], d['collected_params']
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace torch::nn {
class Module;
}

namespace sg::weights {

struct EmaState {
  double decay = 0.0;
  int64_t num_updates = 0;  // -1: torch_ema's use_num_updates=False (num_updates is None)
  std::vector<at::Tensor> shadow_params;
  std::vector<at::Tensor> collected_params;  // what store() saved last; empty when never stored
};

// Reads the pickled torch_ema object (any module path ending in ExponentialMovingAverage) or our
// dict form. FormatError naming the file when it is neither.
EmaState read_ema(const std::string& path);
// Writes the dict form above, atomically.
void write_ema(const std::string& path, const EmaState& ema);

// Copies the shadows into the module's trainable parameters, in parameters() order (torch_ema
// tracks only parameters with requires_grad). A count or shape mismatch is a FormatError naming
// `source` and listing every offending position with its parameter name and both shapes.
void load_ema_into(torch::nn::Module& module, const EmaState& ema, const std::string& source);

}  // namespace sg::weights
