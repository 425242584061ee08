#pragma once
// Where researchers already have pretrained weights: torch's download cache, which torch.hub,
// torchvision and pytorch-fid fill. We only look there; nothing is ever downloaded or written.
#include <string>
#include <vector>

namespace sg::weights {

// $TORCH_HOME/hub/checkpoints, TORCH_HOME defaulting to $XDG_CACHE_HOME/torch, then
// ~/.cache/torch (torch.hub.get_dir's rule). The directory need not exist.
std::string torch_hub_checkpoints_dir();

// The first of `names` that is a regular file in torch_hub_checkpoints_dir() (full path), or "".
// Every path tried is appended to `tried` when given, for messages that say where we looked.
std::string find_in_torch_hub(const std::vector<std::string>& names, std::vector<std::string>* tried = nullptr);

}  // namespace sg::weights
