#pragma once
// What the pickles of both torch.save formats (zip and legacy) have in common: the storage
// classes (torch.FloatStorage, ...) and the REDUCE calls torch and its users pickle (tensor
// rebuilds, OrderedDict, numpy scalars, TorchScript type tags, ...).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "weights/pickle_value.h"

namespace sg::weights {

// The dtype of a storage class name ("torch.FloatStorage" -> float32); FormatError otherwise.
at::ScalarType storage_dtype(const std::string& name, const std::string& path);

// An integer (or bool) value; FormatError naming `what` otherwise.
int64_t as_int(const PyValue& v, const std::string& what, const std::string& path);

// The value of the global `name` applied to `args`, for the globals torch.save files use;
// nullptr for any other name (the unpickler then keeps a generic object). FormatError for a
// malformed call, an unsupported tensor kind (sparse, quantized) or a tensor whose elements
// would take more bytes than the whole file (`file_size`): a stride-0 view of one stored
// element can claim any shape, and whatever copies it later allocates all of it.
PyRef reduce_torch_global(const std::string& name, const PyRef& args, const std::string& path,
                          uint64_t file_size);

}  // namespace sg::weights
