#pragma once
// Reading a torch.save file without Python. Since torch 1.6 torch.save writes a zip archive:
//   <archive>/data.pkl      the pickled object, tensors as _rebuild_tensor_v2(storage, ...)
//   <archive>/data/<key>    one raw little-endian storage per persistent id key
//   <archive>/version       format version (and, from torch 1.13, <archive>/byteorder)
// We open the container with LibTorch's PyTorchStreamReader and unpickle data.pkl ourselves
// (unpickler.h), turning storages into CPU tensors whatever device they were saved from.
// Storages shared by several tensors (views) stay shared, as in Python.
#include <string>

#include "weights/pickle_value.h"

namespace sg::weights {

// The unpickled object. IoError when the file cannot be read; FormatError naming the file when
// it is not a zip-format torch.save (garbage, truncated, the legacy pre-1.6 format — with how to
// re-save it — or a pickle we cannot interpret).
PyRef load_torch_file(const std::string& path);

// The same from bytes already in memory; `source` names them in errors.
PyRef load_torch_bytes(const std::string& bytes, const std::string& source);

}  // namespace sg::weights
