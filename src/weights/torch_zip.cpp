#include "weights/torch_zip.h"

#include <caffe2/serialize/inline_container.h>
#include <c10/util/Exception.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "core/atomic_file.h"
#include "core/error.h"
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
  static const std::string legacy_magic("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 14);
  const bool legacy = bytes.compare(0, legacy_magic.size(), legacy_magic) == 0;
  // Even older: a tar archive with 'storages', 'tensors' and 'pickle' members.
  const bool tar = bytes.size() > 262 && bytes.compare(257, 5, "ustar") == 0;
  if (legacy || tar)
    throw FormatError(path + ": this is torch.save's legacy (non-zip) format, which is not "
                      "supported; " + fmt::format(fmt::runtime(kResave), path));
  if (bytes.empty()) throw FormatError(path + ": empty file, expected a torch.save zip archive");
  throw FormatError(path + ": not a torch.save file (no zip header; expected the zip archive "
                    "torch.save writes since torch 1.6)");
}

at::ScalarType storage_dtype(const std::string& name, const std::string& path) {
  static const std::map<std::string, at::ScalarType> table = {
      {"torch.FloatStorage", at::kFloat},       {"torch.DoubleStorage", at::kDouble},
      {"torch.HalfStorage", at::kHalf},         {"torch.BFloat16Storage", at::kBFloat16},
      {"torch.LongStorage", at::kLong},         {"torch.IntStorage", at::kInt},
      {"torch.ShortStorage", at::kShort},       {"torch.CharStorage", at::kChar},
      {"torch.ByteStorage", at::kByte},         {"torch.BoolStorage", at::kBool},
      {"torch.ComplexFloatStorage", at::kComplexFloat},
      {"torch.ComplexDoubleStorage", at::kComplexDouble},
  };
  auto it = table.find(name);
  if (it == table.end())
    throw FormatError(fmt::format("{}: unsupported storage type '{}'", path, name));
  return it->second;
}

int64_t as_int(const PyValue& v, const std::string& what, const std::string& path) {
  if (v.is(Kind::integer)) return v.i;
  if (v.is(Kind::boolean)) return v.b;
  throw FormatError(fmt::format("{}: {} is a {}, expected an int", path, what, describe(v)));
}

std::vector<int64_t> int_tuple(const PyValue& v, const std::string& what, const std::string& path) {
  if (!v.is(Kind::tuple) && !v.is(Kind::list))
    throw FormatError(fmt::format("{}: {} is a {}, expected a tuple", path, what, describe(v)));
  std::vector<int64_t> out;
  for (const auto& item : v.items) out.push_back(as_int(*item, what, path));
  return out;
}

PyRef tensor_value(at::Tensor t) {
  auto v = make_value(Kind::tensor);
  v->tensor = std::move(t);
  return v;
}

// _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, ...)
PyRef rebuild_tensor(const PyValue& args, const std::string& path) {
  if (args.items.size() < 4 || !args.items[0]->is(Kind::storage))
    throw FormatError(path + ": malformed tensor record (expected storage, offset, size, stride)");
  const at::Tensor& storage = args.items[0]->tensor;
  const int64_t offset = as_int(*args.items[1], "tensor offset", path);
  const auto size = int_tuple(*args.items[2], "tensor size", path);
  const auto stride = int_tuple(*args.items[3], "tensor stride", path);
  if (size.size() != stride.size())
    throw FormatError(path + ": tensor size and stride have different lengths");
  // The largest element index the view touches must lie inside the storage.
  int64_t last = offset;
  bool empty = false;
  for (size_t d = 0; d < size.size(); ++d) {
    if (size[d] < 0 || stride[d] < 0) throw FormatError(path + ": negative tensor size or stride");
    int64_t step = 0;
    if (size[d] == 0) empty = true;
    else if (__builtin_mul_overflow(size[d] - 1, stride[d], &step) || __builtin_add_overflow(last, step, &last))
      throw FormatError(path + ": tensor size and stride overflow");
  }
  if (offset < 0 || (!empty && last >= storage.numel()))
    throw FormatError(fmt::format("{}: tensor of size {} at offset {} reaches past its storage of {} "
                                  "elements", path, shape_string(size), offset, storage.numel()));
  if (empty) return tensor_value(at::empty(size, storage.options()));
  return tensor_value(storage.as_strided(size, stride, offset));
}

// numpy.core.multiarray.scalar(dtype, bytes): the numbers optimizers and GradScaler may hold.
PyRef numpy_scalar(const PyValue& args, const std::string& path) {
  const PyValue* dtype = args.items.size() == 2 ? args.items[0].get() : nullptr;
  if (!dtype || !dtype->is(Kind::object) || dtype->items.empty() || !dtype->items[0]->is(Kind::string) ||
      !args.items[1]->is(Kind::bytes))
    throw FormatError(path + ": malformed numpy scalar");
  const std::string& code = dtype->items[0]->s;
  const std::string& raw = args.items[1]->s;
  auto read = [&](auto zero) {
    using T = decltype(zero);
    if (raw.size() != sizeof(T)) throw FormatError(path + ": numpy scalar of the wrong size");
    T x;
    std::memcpy(&x, raw.data(), sizeof(T));
    return x;
  };
  auto v = make_value(Kind::floating);
  if (code == "f8") v->f = read(double{});
  else if (code == "f4") v->f = read(float{});
  else {
    v->kind = Kind::integer;
    if (code == "i8") v->i = read(int64_t{});
    else if (code == "i4") v->i = read(int32_t{});
    else if (code == "i2") v->i = read(int16_t{});
    else if (code == "i1") v->i = read(int8_t{});
    else if (code == "u8") v->i = static_cast<int64_t>(read(uint64_t{}));
    else if (code == "u4") v->i = read(uint32_t{});
    else if (code == "u2") v->i = read(uint16_t{});
    else if (code == "u1") v->i = read(uint8_t{});
    else if (code == "b1") { v->kind = Kind::boolean; v->b = read(uint8_t{}) != 0; }
    else throw FormatError(fmt::format("{}: unsupported numpy scalar dtype '{}'", path, code));
  }
  return v;
}

// Python 3 pickles bytes at protocol 2 as _codecs.encode(text, 'latin1').
PyRef latin1_bytes(const PyValue& args, const std::string& path) {
  if (args.items.empty() || !args.items[0]->is(Kind::string))
    throw FormatError(path + ": malformed _codecs.encode call");
  const std::string& utf8 = args.items[0]->s;
  auto v = make_value(Kind::bytes);
  for (size_t k = 0; k < utf8.size(); ++k) {
    const auto c = static_cast<unsigned char>(utf8[k]);
    if (c < 0x80) v->s.push_back(static_cast<char>(c));
    else if ((c & 0xE0) == 0xC0 && k + 1 < utf8.size())
      v->s.push_back(static_cast<char>(((c & 0x1F) << 6) | (static_cast<unsigned char>(utf8[++k]) & 0x3F)));
    else throw FormatError(path + ": bytes outside latin-1 in _codecs.encode");
  }
  return v;
}

PyRef reduce_known(const std::string& name, const PyRef& args, const std::string& path) {
  const PyValue& a = *args;
  if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor")
    return rebuild_tensor(a, path);
  if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") {
    if (a.items.empty() || !a.items[0]->is(Kind::tensor))
      throw FormatError(path + ": malformed parameter record");
    return a.items[0];
  }
  if (name == "collections.OrderedDict") {
    auto d = make_value(Kind::dict);
    if (!a.items.empty() && (a.items[0]->is(Kind::list) || a.items[0]->is(Kind::tuple)))
      for (const auto& pair : a.items[0]->items)
        if (pair->is(Kind::tuple) && pair->items.size() == 2)
          d->entries.emplace_back(pair->items[0], pair->items[1]);
    return d;
  }
  // LibTorch's pickle_save tags containers with their TorchScript type; the value is the first
  // argument (and lists of ints/floats/bools/tensors are built from one).
  if (name == "torch.jit._pickle.restore_type_tag" || name == "torch.jit._pickle.build_intlist" ||
      name == "torch.jit._pickle.build_doublelist" || name == "torch.jit._pickle.build_boollist" ||
      name == "torch.jit._pickle.build_tensorlist") {
    if (a.items.empty()) throw FormatError(path + ": malformed " + name + " call");
    return a.items[0];
  }
  if (name == "_codecs.encode") return latin1_bytes(a, path);
  if (name == "builtins.set" || name == "builtins.frozenset" || name == "__builtin__.set") {
    auto l = make_value(Kind::list);
    if (!a.items.empty()) l->items = a.items[0]->items;
    return l;
  }
  if (name == "torch.device") return a.items.empty() ? make_string("cpu") : a.items[0];
  if (name == "numpy.core.multiarray.scalar" || name == "numpy._core.multiarray.scalar")
    return numpy_scalar(a, path);
  if (name == "copyreg._reconstructor" && !a.items.empty() && a.items[0]->is(Kind::global)) {
    auto obj = make_value(Kind::object);
    obj->s = a.items[0]->s;
    return obj;
  }
  if (name.rfind("torch._utils._rebuild", 0) == 0)
    throw FormatError(fmt::format("{}: unsupported tensor kind ({}): only dense CPU/CUDA tensors "
                                  "can be read", path, name));
  return nullptr;
}

}  // namespace

PyRef load_torch_bytes(const std::string& bytes, const std::string& path) {
  check_container(bytes, path);
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  std::string pickle;
  // Records are named "<archive>/<name>" in the zip; the reader strips the archive folder.
  const std::map<std::string, uint32_t> crcs = zip_crcs(bytes);
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
  hooks.reduce = [&](const std::string& name, const PyRef& args) { return reduce_known(name, args, path); };
  return unpickle(pickle, hooks, path);
}

PyRef load_torch_file(const std::string& path) {
  return load_torch_bytes(sg::read_file(path), path);
}

}  // namespace sg::weights
