#include "weights/unpickler.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <unordered_map>

#include "core/error.h"

namespace sg::weights {

namespace {

using Kind = PyValue::Kind;

class Machine {
 public:
  Machine(std::string_view bytes, const UnpickleHooks& hooks, const std::string& source)
      : in_(bytes), hooks_(hooks), source_(source) {}

  PyRef run() {
    while (true) {
      op_pos_ = pos_;
      const uint8_t op = u8();
      switch (op) {
        case 0x80: u8(); break;                         // PROTO
        case 0x95: take(8); break;                      // FRAME: a length hint only
        case '.': {                                     // STOP
          if (stack_.size() != 1) fail("STOP with " + std::to_string(stack_.size()) + " values");
          end_ = pos_;
          return stack_.back();
        }
        case '(': marks_.push_back(stack_.size()); break;  // MARK
        case '0': pop(); break;                         // POP
        case '1': pop_mark(); break;                    // POP_MARK
        case '2': push(top()); break;                   // DUP
        case 'N': push(make_value(Kind::none)); break;
        case 0x88: push(boolean(true)); break;          // NEWTRUE
        case 0x89: push(boolean(false)); break;         // NEWFALSE
        case 'J': push(make_int(static_cast<int32_t>(le(4)))); break;  // BININT
        case 'K': push(make_int(static_cast<int64_t>(le(1)))); break;  // BININT1
        case 'M': push(make_int(static_cast<int64_t>(le(2)))); break;  // BININT2
        case 0x8a: push(long_int(le(1))); break;        // LONG1
        case 0x8b: push(long_int(le(4))); break;        // LONG4
        case 'G': {                                     // BINFLOAT (big-endian double)
          uint64_t bits = 0;
          for (int k = 0; k < 8; ++k) bits = (bits << 8) | u8();
          auto v = make_value(Kind::floating);
          std::memcpy(&v->f, &bits, 8);
          push(v);
          break;
        }
        case 'I': push(text_int(line())); break;        // INT (protocol 0; "01" is True)
        case 'L': push(text_int(line())); break;        // LONG (protocol 0)
        case 'F': {                                     // FLOAT (protocol 0)
          auto v = make_value(Kind::floating);
          v->f = text_float(line());
          push(v);
          break;
        }
        case 'X': push(make_string(std::string(take(le(4))))); break;   // BINUNICODE
        case 0x8c: push(make_string(std::string(take(le(1))))); break;  // SHORT_BINUNICODE
        case 0x8d: push(make_string(std::string(take(le(8))))); break;  // BINUNICODE8
        case 'T': push(make_string(std::string(take(le(4))))); break;   // BINSTRING (py2 str)
        case 'U': push(make_string(std::string(take(le(1))))); break;   // SHORT_BINSTRING
        case 'B': push(bytes(take(le(4)))); break;                      // BINBYTES
        case 'C': push(bytes(take(le(1)))); break;                      // SHORT_BINBYTES
        case 0x8e: push(bytes(take(le(8)))); break;                     // BINBYTES8
        case 0x96: push(bytes(take(le(8)))); break;                     // BYTEARRAY8
        case ')': push(make_value(Kind::tuple)); break;                 // EMPTY_TUPLE
        case 't': push(tuple(pop_mark())); break;                       // TUPLE
        case 0x85: push(tuple(pop_n(1))); break;                        // TUPLE1
        case 0x86: push(tuple(pop_n(2))); break;                        // TUPLE2
        case 0x87: push(tuple(pop_n(3))); break;                        // TUPLE3
        case ']': push(make_value(Kind::list)); break;                  // EMPTY_LIST
        case 'l': {                                                     // LIST
          auto v = make_value(Kind::list);
          v->items = pop_mark();
          push(measured(v));
          break;
        }
        case 0x8f: push(make_value(Kind::list)); break;  // EMPTY_SET: a list will do
        case 0x91: {                                     // FROZENSET
          auto v = make_value(Kind::list);
          v->items = pop_mark();
          push(measured(v));
          break;
        }
        case 'a': {                                      // APPEND
          PyRef item = pop();
          PyValue* list = expect(top(), Kind::list, "APPEND");
          list->items.push_back(item);
          deepen(*list, *item);
          break;
        }
        case 'e':                                        // APPENDS
        case 0x90: {                                     // ADDITEMS
          auto items = pop_mark();
          PyValue* list = expect(top(), Kind::list, "APPENDS");
          list->items.insert(list->items.end(), items.begin(), items.end());
          for (const auto& item : items) deepen(*list, *item);
          break;
        }
        case '}': push(make_value(Kind::dict)); break;   // EMPTY_DICT
        case 'd': {                                      // DICT
          auto items = pop_mark();
          auto v = make_value(Kind::dict);
          set_items(*v, items);
          push(v);
          break;
        }
        case 's': {                                      // SETITEM
          auto value = pop();
          auto key = pop();
          set_items(*expect(top(), Kind::dict, "SETITEM"), {key, value});
          break;
        }
        case 'u': {                                      // SETITEMS
          auto items = pop_mark();
          set_items(*expect(top(), Kind::dict, "SETITEMS"), items);
          break;
        }
        case 'q': memo_[le(1)] = top(); break;           // BINPUT
        case 'r': memo_[le(4)] = top(); break;           // LONG_BINPUT
        case 'p': memo_[text_key(line())] = top(); break;  // PUT
        case 0x94: memo_[memo_.size()] = top(); break;   // MEMOIZE
        case 'h': push(get(le(1))); break;               // BINGET
        case 'j': push(get(le(4))); break;               // LONG_BINGET
        case 'g': push(get(text_key(line()))); break;    // GET
        case 'c': {                                      // GLOBAL "module\nname\n"
          std::string module = line();
          push(global(module + "." + line()));
          break;
        }
        case 0x93: {                                     // STACK_GLOBAL
          auto name = pop();
          auto module = pop();
          if (!name->is(Kind::string) || !module->is(Kind::string)) fail("STACK_GLOBAL of non-strings");
          push(global(module->s + "." + name->s));
          break;
        }
        case 'R': {                                      // REDUCE
          auto args = pop();
          auto callable = pop();
          push(reduce(callable, args));
          break;
        }
        case 0x81: {                                     // NEWOBJ cls(*args)
          auto args = pop();
          auto cls = pop();
          push(object(cls, args));
          break;
        }
        case 0x92: {                                     // NEWOBJ_EX cls(*args, **kwargs)
          pop();
          auto args = pop();
          auto cls = pop();
          push(object(cls, args));
          break;
        }
        case 'b': {                                      // BUILD
          auto state = pop();
          top()->state = state;  // tensors, dicts and objects keep it; readers decide
          deepen(*top(), *state);
          break;
        }
        case 'Q': {                                      // BINPERSID
          auto pid = pop();
          if (!hooks_.persistent_load) fail("persistent id without a storage archive");
          push(hooks_.persistent_load(pid));
          break;
        }
        case 'P': {                                      // PERSID (protocol 0)
          auto pid = make_string(line());
          if (!hooks_.persistent_load) fail("persistent id without a storage archive");
          push(hooks_.persistent_load(pid));
          break;
        }
        default:
          fail(fmt::format("unsupported pickle opcode 0x{:02x}", op));
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw FormatError(fmt::format("{}: malformed pickle: {} at byte {}", source_, what, op_pos_));
  }

  uint8_t u8() {
    if (pos_ >= in_.size()) fail("unexpected end of data");
    return static_cast<uint8_t>(in_[pos_++]);
  }
  uint64_t le(int n) {
    uint64_t v = 0;
    for (int k = 0; k < n; ++k) v |= static_cast<uint64_t>(u8()) << (8 * k);
    return v;
  }
  std::string_view take(uint64_t n) {
    if (n > in_.size() - pos_) fail("unexpected end of data");
    auto s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string line() {
    const size_t end = in_.find('\n', pos_);
    if (end == std::string_view::npos) fail("unterminated line");
    std::string s(in_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }

  void push(PyRef v) { stack_.push_back(std::move(v)); }
  PyRef top() const {
    if (stack_.empty()) fail("empty stack");
    return stack_.back();
  }
  PyRef pop() {
    PyRef v = top();
    stack_.pop_back();
    return v;
  }
  std::vector<PyRef> pop_n(size_t n) {
    if (stack_.size() < n) fail("stack underflow");
    std::vector<PyRef> v(stack_.end() - n, stack_.end());
    stack_.resize(stack_.size() - n);
    return v;
  }
  std::vector<PyRef> pop_mark() {
    if (marks_.empty()) fail("no MARK");
    const size_t m = marks_.back();
    marks_.pop_back();
    if (m > stack_.size()) fail("MARK below the stack");
    std::vector<PyRef> v(stack_.begin() + m, stack_.end());
    stack_.resize(m);
    return v;
  }
  PyRef get(uint64_t key) const {
    auto it = memo_.find(key);
    if (it == memo_.end()) fail("memo key " + std::to_string(key) + " not set");
    return it->second;
  }
  PyValue* expect(const PyRef& v, Kind kind, const char* op) const {
    if (!v->is(kind)) fail(std::string(op) + " on a " + describe(*v));
    return v.get();
  }
  void set_items(PyValue& dict, const std::vector<PyRef>& items) const {
    if (items.size() % 2) fail("odd number of dict items");
    for (size_t k = 0; k < items.size(); k += 2) {
      // A repeated key replaces the value in place, as Python's dict does.
      bool replaced = false;
      if (items[k]->is(Kind::string)) {
        for (auto& e : dict.entries)
          if (e.first->is(Kind::string) && e.first->s == items[k]->s) {
            e.second = items[k + 1];
            replaced = true;
            break;
          }
      }
      if (!replaced) dict.entries.emplace_back(items[k], items[k + 1]);
      deepen(dict, *items[k]);
      deepen(dict, *items[k + 1]);
    }
  }

  // Nesting depth is counted as values are built, so a crafted pickle nested a million levels
  // deep fails at level kMaxPickleDepth instead of building (and later tearing down) the rest.
  void deepen(PyValue& parent, const PyValue& child) const {
    parent.depth = std::max(parent.depth, child.depth + 1);
    if (parent.depth > kMaxPickleDepth)
      fail(fmt::format("values nested deeper than {} levels", kMaxPickleDepth));
  }
  // `v`'s depth from its direct children: for a value just built from values on the stack or
  // returned by a hook. Its references are counted too: NEWOBJ and REDUCE copy their argument
  // tuple, so a few bytes naming a memoized tuple of a million items again would copy a million
  // references each time. A real pickle holds about one reference per byte.
  PyRef measured(PyRef v) {
    refs_ += v->items.size() + 2 * v->entries.size();
    if (refs_ > kRefsPerByte * in_.size())
      fail(fmt::format("values hold more than {} references in all, {} per byte of pickle (copies of "
                       "one large tuple or list?)", kRefsPerByte * in_.size(), kRefsPerByte));
    for (const auto& item : v->items) deepen(*v, *item);
    for (const auto& [key, val] : v->entries) {
      deepen(*v, *key);
      deepen(*v, *val);
    }
    if (v->state) deepen(*v, *v->state);
    return v;
  }

  static PyRef boolean(bool b) {
    auto v = make_value(Kind::boolean);
    v->b = b;
    return v;
  }
  static PyRef bytes(std::string_view s) {
    auto v = make_value(Kind::bytes);
    v->s = std::string(s);
    return v;
  }
  PyRef tuple(std::vector<PyRef> items) {
    auto v = make_value(Kind::tuple);
    v->items = std::move(items);
    return measured(v);
  }
  static PyRef global(std::string name) {
    auto v = make_value(Kind::global);
    v->s = std::move(name);
    return v;
  }
  PyRef long_int(uint64_t n) {
    // Two's complement little-endian; anything wider than 64 bits is not a value we use.
    if (n > 8) fail("integer of " + std::to_string(n) + " bytes");
    uint64_t u = le(static_cast<int>(n));
    if (n > 0 && n < 8 && (u >> (8 * n - 1)) & 1) u |= ~uint64_t{0} << (8 * n);
    return make_int(static_cast<int64_t>(u));
  }
  // Protocol 0 writes numbers as text lines; std::sto* throw their own exceptions (and stoull
  // reads "-1" as 2^64-1), so each is parsed whole here and anything else is a FormatError.
  double text_float(const std::string& s) const {
    try {
      size_t used = 0;
      const double f = std::stod(s, &used);
      if (used == s.size()) return f;
    } catch (const std::exception&) {
    }
    fail("float '" + s + "'");
  }
  uint64_t text_key(const std::string& s) const {
    try {
      size_t used = 0;
      if (!s.empty() && std::isdigit(static_cast<unsigned char>(s[0]))) {
        const uint64_t k = std::stoull(s, &used);
        if (used == s.size()) return k;
      }
    } catch (const std::exception&) {
    }
    fail("memo key '" + s + "'");
  }

  PyRef text_int(const std::string& s) {
    if (s == "01") return boolean(true);
    if (s == "00") return boolean(false);
    std::string digits = s;
    if (!digits.empty() && digits.back() == 'L') digits.pop_back();
    try {
      return make_int(std::stoll(digits));
    } catch (const std::exception&) {
      fail("integer '" + s + "'");
    }
  }
  PyRef object(const PyRef& cls, const PyRef& args) {
    if (!cls->is(Kind::global)) fail("NEWOBJ of a " + describe(*cls));
    auto v = make_value(Kind::object);
    v->s = cls->s;
    if (args->is(Kind::tuple)) v->items = args->items;
    return measured(v);
  }
  PyRef reduce(const PyRef& callable, const PyRef& args) {
    if (!callable->is(Kind::global)) fail("REDUCE of a " + describe(*callable));
    if (!args->is(Kind::tuple)) fail("REDUCE with arguments that are a " + describe(*args));
    if (hooks_.reduce)
      if (PyRef v = hooks_.reduce(callable->s, args)) return measured(v);
    return object(callable, args);
  }

  std::string_view in_;
 public:
  size_t end_ = 0;  // just past STOP

 private:
  size_t pos_ = 0, op_pos_ = 0;
  const UnpickleHooks& hooks_;
  const std::string& source_;
  std::vector<PyRef> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PyRef> memo_;
  static constexpr uint64_t kRefsPerByte = 8;
  uint64_t refs_ = 0;  // references held by the values measured() has seen
};

}  // namespace

PyRef unpickle(std::string_view bytes, const UnpickleHooks& hooks, const std::string& source,
              size_t* consumed) {
  Machine m(bytes, hooks, source);
  PyRef v = m.run();
  if (consumed) *consumed = m.end_;
  return v;
}

}  // namespace sg::weights
