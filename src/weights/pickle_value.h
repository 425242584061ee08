#pragma once
// The object tree a torch.save pickle unpickles to. Python objects we never execute (classes,
// optimizers, torch_ema's EMA) are kept as plain data: the class name, the constructor
// arguments and the BUILD state, so callers can read the attributes they know about.
// Shared pointers give Python's reference semantics: a list stored in the memo and appended to
// later is one list.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sg::weights {

struct PyValue;
using PyRef = std::shared_ptr<PyValue>;

struct PyValue {
  enum class Kind { none, boolean, integer, floating, string, bytes, tuple, list, dict, global,
                    object, tensor, storage };
  Kind kind = Kind::none;
  bool b = false;
  int64_t i = 0;
  double f = 0.0;
  std::string s;                               // string, bytes; global/object: "module.name"
  std::vector<PyRef> items;                    // tuple, list; object: constructor arguments
  std::vector<std::pair<PyRef, PyRef>> entries;  // dict, in insertion order
  PyRef state;                                 // object (and dict): what BUILD set
  at::Tensor tensor;                           // tensor; storage: its flat 1-D contents
  // Levels of nesting from this value down, as the unpickler built it (1 for a value holding
  // nothing). A container mutated after it was nested (APPEND to a memoized list) can make an
  // outer value deeper than its count: code that recurses must bound its own depth.
  int depth = 1;

  bool is(Kind k) const { return kind == k; }

  PyValue() = default;
  PyValue(const PyValue&) = default;
  PyValue(PyValue&&) = default;
  PyValue& operator=(const PyValue&) = default;
  PyValue& operator=(PyValue&&) = default;
  // Releases the values below iteratively: a tree a million levels deep (a crafted pickle)
  // would otherwise be destroyed by a million nested destructor calls and overflow the stack.
  ~PyValue();
};

PyRef make_value(PyValue::Kind kind);
PyRef make_string(std::string s);
PyRef make_int(int64_t i);

// Short human description for error messages: "dict of 3", "list of 74",
// "torch_ema.ExponentialMovingAverage object", "tensor float32 (256, 3)".
std::string describe(const PyValue& v);
std::string shape_string(at::IntArrayRef sizes);  // "(256, 3)", "()" for a scalar
const char* dtype_name(at::ScalarType t);          // "float32", like Python

// An attribute of an object (from a dict BUILD state, or a (dict, slots) tuple), or a dict entry
// with a string key; nullptr when absent.
const PyValue* attribute(const PyValue& v, const std::string& name);

}  // namespace sg::weights
