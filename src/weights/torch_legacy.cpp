#include "weights/torch_legacy.h"

#include <c10/core/ScalarType.h>
#include <fmt/format.h>

#include <cstring>
#include <map>
#include <string_view>

#include "core/error.h"
#include "weights/torch_pickle.h"
#include "weights/unpickler.h"

namespace sg::weights {

namespace {

using Kind = PyValue::Kind;

// pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2): PROTO 2, LONG1 of 10 bytes, STOP.
const std::string kMagic("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19\x2e", 15);
constexpr int64_t kProtocolVersion = 1001;

struct Cursor {
  const std::string& bytes;
  const std::string& path;
  size_t pos = 0;

  PyRef pickle(const UnpickleHooks& hooks, const char* what) {
    if (pos >= bytes.size())
      throw FormatError(fmt::format("{}: legacy torch.save file ends before its {}", path, what));
    size_t n = 0;
    PyRef v = unpickle(std::string_view(bytes).substr(pos), hooks, path, &n);
    pos += n;
    return v;
  }
};

// The storage records follow the object: each an 8-byte element count and the elements. Every
// storage the object names must have one, so together they must fit in what is left of the file
// before any is allocated; each one fitting alone is not enough (a thousand storages could each
// claim the whole file, and were each allocated).
struct StorageBudget {
  const std::string& path;
  uint64_t left;  // bytes from the object pickle to the end of the file
  uint64_t claimed = 0;

  void claim(const std::string& key, int64_t numel, at::ScalarType dtype) {
    const uint64_t element = c10::elementSize(dtype);
    if (numel < 0)
      throw FormatError(fmt::format("{}: storage '{}' has a negative size {}", path, key, numel));
    if (static_cast<uint64_t>(numel) > left / element)
      throw FormatError(fmt::format("{}: storage '{}' of {} x {} is larger than the {} bytes left in the "
                                    "file", path, key, numel, dtype_name(dtype), left));
    const uint64_t record = sizeof(int64_t) + static_cast<uint64_t>(numel) * element;  // <= left + 8
    if (record > left - claimed)
      throw FormatError(fmt::format("{}: storage '{}' of {} x {} brings the storages to {} bytes, more "
                                    "than the {} bytes left in the file", path, key, numel,
                                    dtype_name(dtype), claimed + record, left));
    claimed += record;
  }
};

}  // namespace

bool is_legacy_torch_save(const std::string& bytes) {
  // Only the first 14 bytes: the STOP after them is checked when reading.
  return bytes.compare(0, kMagic.size() - 1, kMagic, 0, kMagic.size() - 1) == 0;
}

PyRef load_legacy_torch_bytes(const std::string& bytes, const std::string& path) {
  if (bytes.compare(0, kMagic.size(), kMagic) != 0)
    throw FormatError(path + ": malformed legacy torch.save header");
  Cursor in{bytes, path, kMagic.size()};
  UnpickleHooks plain;
  plain.reduce = [&](const std::string& name, const PyRef& args) {
    return reduce_torch_global(name, args, path, bytes.size());
  };

  const PyRef version = in.pickle(plain, "protocol version");
  if (!version->is(Kind::integer) || version->i != kProtocolVersion)
    throw FormatError(fmt::format("{}: legacy torch.save protocol version {}, expected {}", path,
                                  describe(*version), kProtocolVersion));
  const PyRef sys_info = in.pickle(plain, "system information");
  if (const PyValue* le = attribute(*sys_info, "little_endian"); le && le->is(Kind::boolean) && !le->b)
    throw FormatError(path + ": storages are big-endian; only little-endian files are supported");

  // Storages are created empty while the object is unpickled and filled from the records after
  // it; tensors are views of them, so they see the data once it is copied in.
  std::map<std::string, at::Tensor> roots;   // by root key
  std::map<std::string, at::Tensor> views;   // by view key
  StorageBudget budget{path, bytes.size() - in.pos};
  UnpickleHooks hooks = plain;
  hooks.persistent_load = [&](const PyRef& pid) -> PyRef {
    if (pid->is(Kind::tuple) && pid->items.size() >= 2 && pid->items[0]->is(Kind::string) &&
        pid->items[0]->s == "module")
      return pid->items[1];  // a pickled nn.Module's class (its source text is only a check)
    if (!pid->is(Kind::tuple) || pid->items.size() < 6 || !pid->items[0]->is(Kind::string) ||
        pid->items[0]->s != "storage" || !pid->items[1]->is(Kind::global) ||
        !pid->items[2]->is(Kind::string))
      throw FormatError(fmt::format("{}: unexpected persistent id {} in a legacy torch.save file",
                                    path, describe(*pid)));
    const at::ScalarType dtype = storage_dtype(pid->items[1]->s, path);
    const std::string& key = pid->items[2]->s;
    const int64_t numel = as_int(*pid->items[4], "storage size", path);
    auto it = roots.find(key);
    if (it == roots.end()) {
      budget.claim(key, numel, dtype);
      it = roots.emplace(key, at::zeros({numel}, at::TensorOptions().dtype(dtype))).first;
    } else if (it->second.scalar_type() != dtype) {
      throw FormatError(fmt::format("{}: storage '{}' is used as both {} and {}", path, key,
                                    dtype_name(it->second.scalar_type()), dtype_name(dtype)));
    }
    at::Tensor storage = it->second;
    const PyValue& view = *pid->items[5];
    if (view.is(Kind::tuple) && view.items.size() == 3 && view.items[0]->is(Kind::string)) {
      // (view_key, offset, size) in elements of the root storage.
      const std::string& view_key = view.items[0]->s;
      auto v = views.find(view_key);
      if (v == views.end()) {
        const int64_t offset = as_int(*view.items[1], "storage view offset", path);
        const int64_t size = as_int(*view.items[2], "storage view size", path);
        if (offset < 0 || size < 0 || offset > storage.numel() || size > storage.numel() - offset)
          throw FormatError(fmt::format("{}: storage view [{}, {}) outside storage '{}' of {}", path,
                                        offset, offset + size, key, storage.numel()));
        v = views.emplace(view_key, storage.narrow(0, offset, size)).first;
      }
      storage = v->second;
    } else if (!view.is(Kind::none)) {
      throw FormatError(fmt::format("{}: unexpected storage view {} for '{}'", path, describe(view), key));
    }
    auto value = make_value(Kind::storage);
    value->tensor = storage;
    return value;
  };
  const PyRef object = in.pickle(hooks, "object");

  const PyRef keys = in.pickle(plain, "list of storage keys");
  if (!keys->is(Kind::list))
    throw FormatError(fmt::format("{}: expected the list of storage keys, found a {}", path, describe(*keys)));
  for (const auto& k : keys->items) {
    if (!k->is(Kind::string)) throw FormatError(path + ": a storage key is not a string");
    auto it = roots.find(k->s);
    if (it == roots.end())
      throw FormatError(fmt::format("{}: storage '{}' has data but no tensor uses it", path, k->s));
    at::Tensor& t = it->second;
    int64_t numel = 0;
    if (bytes.size() - in.pos < sizeof(numel))
      throw FormatError(fmt::format("{}: file ends before storage '{}' (truncated?)", path, k->s));
    std::memcpy(&numel, bytes.data() + in.pos, sizeof(numel));
    in.pos += sizeof(numel);
    if (numel != t.numel())
      throw FormatError(fmt::format("{}: storage '{}' record holds {} elements, the object expects {}",
                                    path, k->s, numel, t.numel()));
    const size_t n = static_cast<size_t>(numel) * t.element_size();
    if (bytes.size() - in.pos < n)
      throw FormatError(fmt::format("{}: file ends inside storage '{}' (truncated?)", path, k->s));
    if (n) std::memcpy(t.data_ptr(), bytes.data() + in.pos, n);
    in.pos += n;
  }
  if (keys->items.size() != roots.size())
    throw FormatError(fmt::format("{}: {} storages are used but {} stored", path, roots.size(),
                                  keys->items.size()));
  return object;
}

}  // namespace sg::weights
