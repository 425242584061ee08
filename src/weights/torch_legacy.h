#pragma once
// torch.save's legacy format: what torch wrote before 1.6, and still writes with
// _use_new_zipfile_serialization=False. The FID Inception weights researchers have cached,
// pt_inception-2015-12-05-6726825d.pth, are in it. The file is, one after the other:
//   pickle  MAGIC_NUMBER (0x1950a86a20f9469cfc6c)
//   pickle  PROTOCOL_VERSION (1001)
//   pickle  sys_info {protocol_version, little_endian, type_sizes}
//   pickle  the object; storages are persistent ids
//           ('storage', torch.FloatStorage, key, location, numel, view_metadata)
//   pickle  the storage keys, sorted
//   then for each key: int64 numel, then numel elements, raw and little-endian.
// Tensors are rebuilt as in the zip format (torch_pickle.h); views (view_metadata, only written
// by torch < 1.6 for storage slices) share their root storage.
#include <string>

#include "weights/pickle_value.h"

namespace sg::weights {

// The file starts with the legacy magic-number pickle.
bool is_legacy_torch_save(const std::string& bytes);

// The unpickled object with its storages filled in. FormatError naming `source` for a file cut
// short, storages of a size other than their records say, a big-endian file, or a pickle we
// cannot interpret.
PyRef load_legacy_torch_bytes(const std::string& bytes, const std::string& source);

}  // namespace sg::weights
