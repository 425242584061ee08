#include "weights/torch_pickle.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <vector>

#include "core/error.h"

namespace sg::weights {

using Kind = PyValue::Kind;

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

namespace {

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

// A tensor's byte size comes from its shape, not its storage (a view with stride 0 repeats one
// element): bounded by the file's size, as every size the file claims is.
void check_tensor_bytes(const std::vector<int64_t>& size, at::ScalarType dtype, uint64_t file_size,
                        const std::string& path) {
  if (std::find(size.begin(), size.end(), 0) != size.end()) return;  // empty, whatever the rest
  int64_t numel = 1, bytes = 0;
  bool overflow = false;
  for (int64_t s : size) overflow = overflow || __builtin_mul_overflow(numel, s, &numel);
  overflow = overflow || __builtin_mul_overflow(numel, static_cast<int64_t>(c10::elementSize(dtype)), &bytes);
  if (overflow)
    throw FormatError(fmt::format("{}: tensor of size {} x {} has more bytes than an int64 counts", path,
                                  shape_string(size), dtype_name(dtype)));
  if (static_cast<uint64_t>(bytes) > file_size)
    throw FormatError(fmt::format("{}: tensor of size {} x {} ({} bytes) is larger than the whole file "
                                  "({} bytes)", path, shape_string(size), dtype_name(dtype), bytes,
                                  file_size));
}

// _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, ...)
PyRef rebuild_tensor(const PyValue& args, const std::string& path, uint64_t file_size) {
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
  check_tensor_bytes(size, storage.scalar_type(), file_size, path);
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

}  // namespace

PyRef reduce_torch_global(const std::string& name, const PyRef& args, const std::string& path,
                          uint64_t file_size) {
  const PyValue& a = *args;
  if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor")
    return rebuild_tensor(a, path, file_size);
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

}  // namespace sg::weights
