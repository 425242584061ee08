#include "weights/torch_zip.h"

#include <caffe2/serialize/inline_container.h>
#include <c10/util/Exception.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"
#include "weights/torch_legacy.h"
#include "weights/torch_pickle.h"
#include "weights/unpickler.h"
#include "weights/zip_crc.h"

namespace sg::weights {

namespace {

using Kind = PyValue::Kind;

// LibTorch's MemoryReadAdapter copies whatever miniz asks for, even past the end of a truncated
// file; this one copies only what is there, so a cut-off archive fails instead of reading heap.
class BoundedReader final : public caffe2::serialize::ReadAdapterInterface {
 public:
  explicit BoundedReader(const std::string& bytes) : bytes_(bytes) {}
  size_t size() const override { return bytes_.size(); }
  size_t read(uint64_t pos, void* buf, size_t n, const char* what = "") const override {
    if (pos >= bytes_.size()) return 0;
    n = std::min<uint64_t>(n, bytes_.size() - pos);
    std::memcpy(buf, bytes_.data() + pos, n);
    return n;
  }

 private:
  const std::string& bytes_;
};

const char* kResave =
    "re-save it with a current torch: python3 -c \"import torch; "
    "torch.save(torch.load('{0}', map_location='cpu'), '{0}')\"";

// What kind of file this is, from its first bytes.
void check_container(const std::string& bytes, const std::string& path) {
  if (bytes.size() >= 4 && bytes.compare(0, 4, "PK\x03\x04") == 0) return;
  // Legacy torch.save (before 1.6 or with _use_new_zipfile_serialization=False): a protocol-2
  // pickle starting with the magic number 0x1950a86a20f9469cfc6c as LONG1.
  const bool legacy = is_legacy_torch_save(bytes);
  // Even older: a tar archive with 'storages', 'tensors' and 'pickle' members.
  const bool tar = bytes.size() > 262 && bytes.compare(257, 5, "ustar") == 0;
  if (tar)
    throw FormatError(path + ": this is torch.save's pre-0.4 tar format, which is not "
                      "supported; " + fmt::format(fmt::runtime(kResave), path));
  if (legacy) return;
  if (bytes.empty()) throw FormatError(path + ": empty file, expected a torch.save zip archive");
  throw FormatError(path + ": not a torch.save file (no zip header; expected the zip archive "
                    "torch.save writes since torch 1.6)");
}

// LibTorch's reader allocates each record's uncompressed size, as the central directory claims
// it, before inflating a byte (and reads 'version' in its constructor), so a few bytes of
// directory could make it allocate gigabytes. torch.save stores records uncompressed: in a file
// it wrote, all records together fit in the file. The claims are checked before the reader
// sees the archive; a directory we cannot parse is refused rather than left to it.
void check_record_sizes(const std::optional<std::vector<ZipEntry>>& entries, uint64_t file_size,
                        const std::string& path) {
  if (!entries)
    throw FormatError(path + ": unreadable torch.save zip archive (truncated or corrupt?): no "
                      "readable zip central directory");
  uint64_t total = 0;  // <= 2 x file_size: it stops growing once past file_size
  for (const ZipEntry& e : *entries) {
    if (e.uncompressed > file_size)
      throw FormatError(fmt::format("{}: zip record '{}' claims {} bytes, more than the whole file ({} "
                                    "bytes)", path, e.name, e.uncompressed, file_size));
    total += e.uncompressed;
    if (total > file_size)
      throw FormatError(fmt::format("{}: zip records claim more than the whole file ({} bytes) in all; "
                                    "torch.save stores records uncompressed, so records that inflate "
                                    "past the file's size are not read (at '{}')", path, file_size,
                                    e.name));
  }
}

}  // namespace

PyRef load_torch_bytes(const std::string& bytes, const std::string& path) {
  check_container(bytes, path);
  if (is_legacy_torch_save(bytes)) return load_legacy_torch_bytes(bytes, path);
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  std::string pickle;
  const auto entries = zip_entries(bytes);
  check_record_sizes(entries, bytes.size(), path);
  // Records are named "<archive>/<name>" in the zip; the reader strips the archive folder.
  std::map<std::string, uint32_t> crcs;
  for (const ZipEntry& e : *entries) crcs[e.name] = e.crc;
  std::string prefix;
  if (!crcs.empty()) {
    const std::string& first = crcs.begin()->first;
    prefix = first.substr(0, first.find('/') + 1);
  }
  auto verify = [&](const std::string& record, const void* data, size_t n) {
    auto it = crcs.find(prefix + record);
    if (it != crcs.end() && crc32(data, n) != it->second)
      throw FormatError(fmt::format("{}: record '{}' is corrupt (its CRC-32 does not match the zip "
                                    "directory)", path, record));
  };
  try {
    reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(
        std::make_shared<BoundedReader>(bytes));
    if (reader->hasRecord("byteorder")) {
      auto [ptr, n] = reader->getRecord("byteorder");
      const std::string order(static_cast<const char*>(ptr.get()), n);
      if (order != "little")
        throw FormatError(fmt::format("{}: storages are '{}'-endian; only little-endian files are "
                                      "supported", path, order));
    }
    if (!reader->hasRecord("data.pkl"))
      throw FormatError(path + ": zip archive without data.pkl (a TorchScript module or another "
                        "zip, not a torch.save file)");
    auto [ptr, n] = reader->getRecord("data.pkl");
    verify("data.pkl", ptr.get(), n);
    pickle.assign(static_cast<const char*>(ptr.get()), n);
  } catch (const c10::Error& e) {
    throw FormatError(fmt::format("{}: unreadable torch.save zip archive (truncated or corrupt?): {}",
                                  path, e.what_without_backtrace()));
  }

  std::map<std::string, at::Tensor> storages;  // by key: tensors sharing a storage share it here
  UnpickleHooks hooks;
  hooks.persistent_load = [&](const PyRef& pid) -> PyRef {
    // ('storage', storage_type, key, location, numel)
    if (!pid->is(Kind::tuple) || pid->items.size() < 5 || !pid->items[0]->is(Kind::string) ||
        pid->items[0]->s != "storage" || !pid->items[1]->is(Kind::global) ||
        !pid->items[2]->is(Kind::string))
      throw FormatError(fmt::format("{}: unexpected persistent id {} in data.pkl", path, describe(*pid)));
    const at::ScalarType dtype = storage_dtype(pid->items[1]->s, path);
    const std::string& key = pid->items[2]->s;
    const int64_t numel = as_int(*pid->items[4], "storage size", path);
    auto it = storages.find(key);
    if (it == storages.end()) {
      const std::string record = "data/" + key;
      at::Tensor t;
      try {
        if (!reader->hasRecord(record))
          throw FormatError(fmt::format("{}: storage record '{}' is missing", path, record));
        auto [ptr, n] = reader->getRecord(record);
        verify(record, ptr.get(), n);
        // Sizes come from the file: check them before allocating anything.
        const size_t element = c10::elementSize(dtype);
        if (numel < 0 || static_cast<uint64_t>(numel) > n / element)
          throw FormatError(fmt::format("{}: storage '{}' has {} bytes, expected {} x {}", path, record,
                                        n, numel, dtype_name(dtype)));
        t = at::empty({numel}, at::TensorOptions().dtype(dtype));
        if (numel) std::memcpy(t.data_ptr(), ptr.get(), static_cast<size_t>(numel) * element);
      } catch (const c10::Error& e) {
        throw FormatError(fmt::format("{}: cannot read storage '{}': {}", path, record,
                                      e.what_without_backtrace()));
      }
      it = storages.emplace(key, t).first;
    } else if (it->second.scalar_type() != dtype) {
      throw FormatError(fmt::format("{}: storage '{}' is used as both {} and {}", path, key,
                                    dtype_name(it->second.scalar_type()), dtype_name(dtype)));
    }
    auto v = make_value(Kind::storage);
    v->tensor = it->second;
    return v;
  };
  hooks.reduce = [&](const std::string& name, const PyRef& args) {
    return reduce_torch_global(name, args, path, bytes.size());
  };
  return unpickle(pickle, hooks, path);
}

PyRef load_torch_file(const std::string& path) {
  return load_torch_bytes(sg::read_file(path), path);
}

}  // namespace sg::weights
