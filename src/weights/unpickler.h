#pragma once
// A small pickle virtual machine for what torch.save writes (protocol 2, and 3-5 for files saved
// with a newer pickle_protocol): it builds a PyValue tree and never runs Python code. Two hooks
// give meaning to the parts that are torch's: persistent ids (storages in the zip) and REDUCE
// calls of known functions (tensor rebuilds, OrderedDict, ...). torch::jit's unpickler cannot be
// used: it rejects OrderedDict, arbitrary classes (torch_ema) and numpy scalars.
#include <functional>
#include <string>
#include <string_view>

#include "weights/pickle_value.h"

namespace sg::weights {

struct UnpickleHooks {
  // Turns the BINPERSID argument into a value (torch: a storage).
  std::function<PyRef(const PyRef& pid)> persistent_load;
  // Applies the global `name` ("module.qualname") to `args`; returns nullptr when the name is not
  // one it knows, and the unpickler then keeps a generic object {name, args}.
  std::function<PyRef(const std::string& name, const PyRef& args)> reduce;
};

// The deepest nesting of values a pickle may build. Python's pickle.dump recurses once per level
// and stops at the interpreter's recursion limit (1000 by default), so no file Python wrote
// nests deeper; a crafted one (TUPLE1 a million times) is refused as soon as it passes this.
constexpr int kMaxPickleDepth = 1000;

// Throws FormatError "<source>: <what> at byte N" for malformed or unsupported pickles,
// including values nested deeper than kMaxPickleDepth.
// `consumed`, when given, receives the length of the pickle (up to and including STOP): the
// legacy torch.save format is several pickles and raw storages one after the other.
PyRef unpickle(std::string_view bytes, const UnpickleHooks& hooks, const std::string& source,
               size_t* consumed = nullptr);

}  // namespace sg::weights
