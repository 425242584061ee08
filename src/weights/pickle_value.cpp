#include "weights/pickle_value.h"

#include <fmt/format.h>

namespace sg::weights {

PyRef make_value(PyValue::Kind kind) {
  auto v = std::make_shared<PyValue>();
  v->kind = kind;
  return v;
}

PyRef make_string(std::string s) {
  auto v = make_value(PyValue::Kind::string);
  v->s = std::move(s);
  return v;
}

PyRef make_int(int64_t i) {
  auto v = make_value(PyValue::Kind::integer);
  v->i = i;
  return v;
}

namespace {

// Moves the references `v` holds onto `pending`, leaving `v` with no children to destroy.
void release_children(PyValue& v, std::vector<PyRef>& pending) {
  for (auto& item : v.items) pending.push_back(std::move(item));
  v.items.clear();
  for (auto& [key, val] : v.entries) {
    pending.push_back(std::move(key));
    pending.push_back(std::move(val));
  }
  v.entries.clear();
  if (v.state) pending.push_back(std::move(v.state));
}

}  // namespace

PyValue::~PyValue() {
  // A child this value holds the last reference to is emptied here before it is released, so
  // its own destructor finds nothing to recurse into; one held elsewhere too is only
  // unreferenced (its last owner empties it in turn). Memory, not stack, grows with the tree.
  // (Values on a reference cycle are never destroyed: shared_ptr cannot collect them.)
  std::vector<PyRef> pending;
  release_children(*this, pending);
  while (!pending.empty()) {
    PyRef v = std::move(pending.back());
    pending.pop_back();
    if (v && v.use_count() == 1) release_children(*v, pending);
  }
}

std::string shape_string(at::IntArrayRef sizes) {
  if (sizes.size() == 1) return fmt::format("({},)", sizes[0]);
  return fmt::format("({})", fmt::join(sizes, ", "));
}

const char* dtype_name(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kShort: return "int16";
    case at::kChar: return "int8";
    case at::kByte: return "uint8";
    case at::kBool: return "bool";
    case at::kComplexFloat: return "complex64";
    case at::kComplexDouble: return "complex128";
    default: return c10::toString(t);
  }
}

std::string describe(const PyValue& v) {
  using Kind = PyValue::Kind;
  switch (v.kind) {
    case Kind::none: return "None";
    case Kind::boolean: return v.b ? "True" : "False";
    case Kind::integer: return fmt::format("int {}", v.i);
    case Kind::floating: return fmt::format("float {}", v.f);
    case Kind::string: return fmt::format("str '{}'", v.s.size() > 40 ? v.s.substr(0, 40) + "..." : v.s);
    case Kind::bytes: return fmt::format("bytes of {}", v.s.size());
    case Kind::tuple: return fmt::format("tuple of {}", v.items.size());
    case Kind::list: return fmt::format("list of {}", v.items.size());
    case Kind::dict: return fmt::format("dict of {}", v.entries.size());
    case Kind::global: return fmt::format("global {}", v.s);
    case Kind::object: return fmt::format("{} object", v.s);
    case Kind::tensor:
      return fmt::format("tensor {} {}", dtype_name(v.tensor.scalar_type()), shape_string(v.tensor.sizes()));
    case Kind::storage: return "storage";
  }
  return "?";
}

static const PyValue* lookup(const PyValue& dict, const std::string& name) {
  for (const auto& [k, val] : dict.entries)
    if (k->is(PyValue::Kind::string) && k->s == name) return val.get();
  return nullptr;
}

const PyValue* attribute(const PyValue& v, const std::string& name) {
  using Kind = PyValue::Kind;
  if (v.is(Kind::dict)) return lookup(v, name);
  if (!v.is(Kind::object) || !v.state) return nullptr;
  const PyValue& st = *v.state;
  if (st.is(Kind::dict)) return lookup(st, name);
  // __getstate__ of a class with __slots__: (dict or None, slots dict).
  if (st.is(Kind::tuple))
    for (const auto& part : st.items)
      if (part->is(Kind::dict))
        if (const PyValue* found = lookup(*part, name)) return found;
  return nullptr;
}

}  // namespace sg::weights
