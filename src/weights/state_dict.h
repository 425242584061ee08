#pragma once
// State dicts: the name -> tensor maps that Python's module.state_dict() returns, read from and
// written to files Python's torch.load accepts, and copied into / out of LibTorch modules.
// Only this header's load_into/state_dict_of need a module; it is forward-declared so that
// including this header does not pull in <torch/torch.h>.
#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace torch::nn {
class Module;
}

namespace sg::weights {

using StateDict = std::vector<std::pair<std::string, at::Tensor>>;  // in file order

// A torch.save zip of an OrderedDict or dict of tensors (the reference's generator.pth /
// discriminator.pth), or of a whole pickled nn.Module (pi-GAN's checkpoints), whose parameters
// and buffers are collected in state_dict() order. Tensors are on the CPU whatever device they
// were saved from. FormatError naming the file for anything else, e.g. an optimizer state.
StateDict read_state_dict(const std::string& path);
// The same from the bytes of such a file.
StateDict parse_state_dict(const std::string& bytes, const std::string& source);

// Written atomically with torch::pickle_save as a plain dict (insertion order kept), which
// Python's torch.load returns as a dict that load_state_dict(strict=True) accepts; our reader
// reads it back. Tensors are saved from the CPU, contiguous.
void write_state_dict(const std::string& path, const StateDict& sd);

// Copy a state dict into the module's parameters and buffers (values converted to each
// parameter's dtype and device). With strict, a missing or extra key is an error; a misshapen
// key always is. The FormatError names `source` and lists every offending key with its shapes.
void load_into(torch::nn::Module& module, const StateDict& sd, const std::string& source,
               bool strict = true);

// Parameters and buffers in Python's state_dict() order: each module's own parameters, then its
// own buffers, then its children in registration order, depth first. The tensors are the
// module's own (detached, sharing memory), not copies.
StateDict state_dict_of(const torch::nn::Module& module);

// "name (shape)" lines and lookups shared by the EMA loader.
const at::Tensor* find_tensor(const StateDict& sd, const std::string& name);

}  // namespace sg::weights
