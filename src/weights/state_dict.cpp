#include "weights/state_dict.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <set>
#include <unordered_map>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "weights/torch_zip.h"
#include "weights/unpickler.h"

namespace sg::weights {

namespace {

using Kind = PyValue::Kind;

bool is_module_object(const PyValue& v) {
  return v.is(Kind::object) && attribute(v, "_parameters") && attribute(v, "_modules");
}

// A pickled nn.Module: its __dict__ holds _parameters, _buffers and _modules (OrderedDicts),
// flattened in state_dict() order. The tree comes from an untrusted file, so what Python's own
// state_dict() would recurse into forever is refused: a module holding one of its ancestors (a
// cycle, which pickle's memo writes without complaint), modules nested past kMaxPickleDepth
// (possible despite the unpickler's count, see PyValue::depth), and a submodule shared along so
// many paths that the flattened names would exhaust memory (2^39 paths from 40 modules).
class ModuleFlattener {
 public:
  ModuleFlattener(const std::string& path, StateDict& out) : path_(path), out_(out) {}

  void visit(const PyValue& module, const std::string& prefix) {
    check_path(module, prefix);
    charge(prefix);
    ancestors_.emplace_back(&module, prefix);
    std::set<std::string> non_persistent;
    if (const PyValue* np = attribute(module, "_non_persistent_buffers_set"))
      for (const auto& item : np->items)
        if (item->is(Kind::string)) non_persistent.insert(item->s);
    own(module, "_parameters", prefix, {});
    own(module, "_buffers", prefix, non_persistent);
    const PyValue* children = attribute(module, "_modules");
    for (const auto& [k, v] : children->entries)
      if (k->is(Kind::string) && is_module_object(*v)) visit(*v, prefix + k->s + ".");
    ancestors_.pop_back();
  }

 private:
  // Key paths end in '.' while they name a module: "block.loop." -> "block.loop". Names come
  // from the file and may be megabytes long: messages show the first 200 bytes.
  static std::string module_name(const std::string& prefix) {
    return clip(prefix.empty() ? prefix : prefix.substr(0, prefix.size() - 1));
  }
  static std::string clip(const std::string& name) {
    return name.size() > 200 ? name.substr(0, 200) + "..." : name;
  }

  void check_path(const PyValue& module, const std::string& prefix) const {
    for (const auto& [ancestor, at] : ancestors_)
      if (ancestor == &module)
        throw FormatError(fmt::format("{}: module '{}' is {} again (a cycle through _modules)", path_,
                                      module_name(prefix), at.empty() ? "the top-level module"
                                                                      : "module '" + module_name(at) + "'"));
    if (ancestors_.size() >= static_cast<size_t>(kMaxPickleDepth))
      throw FormatError(fmt::format("{}: modules nested deeper than {} levels (at '{}')", path_,
                                    kMaxPickleDepth, module_name(prefix)));
  }

  // Every module visited and every tensor listed costs its key path plus a fixed share for the
  // entry itself; the total is bounded so a crafted sharing pattern fails in seconds instead of
  // exhausting memory. Real models flatten to a few MiB at most.
  void charge(const std::string& name) {
    constexpr uint64_t kEntry = 64, kBudget = uint64_t{256} << 20;
    spent_ += name.size() + kEntry;
    if (spent_ > kBudget)
      throw FormatError(fmt::format("{}: the pickled module flattens to more than {} MiB of names and "
                                    "tensors (a submodule shared along very many paths?)", path_,
                                    kBudget >> 20));
  }

  void own(const PyValue& module, const char* field, const std::string& prefix,
           const std::set<std::string>& skip) {
    const PyValue* dict = attribute(module, field);
    if (!dict || !dict->is(Kind::dict)) return;
    for (const auto& [k, v] : dict->entries) {
      if (!k->is(Kind::string) || v->is(Kind::none) || skip.count(k->s)) continue;
      if (!v->is(Kind::tensor))
        throw FormatError(fmt::format("{}: module entry '{}' is a {}, expected a tensor", path_,
                                      clip(prefix + k->s), describe(*v)));
      std::string name = prefix + k->s;
      charge(name);
      out_.emplace_back(std::move(name), v->tensor);
    }
  }

  const std::string& path_;
  StateDict& out_;
  std::vector<std::pair<const PyValue*, std::string>> ancestors_;  // the path from the top module
  uint64_t spent_ = 0;
};

StateDict to_state_dict(const PyValue& root, const std::string& path) {
  StateDict out;
  if (is_module_object(root)) {
    ModuleFlattener(path, out).visit(root, "");
    return out;
  }
  if (!root.is(Kind::dict))
    throw FormatError(fmt::format("{}: expected a state dict (a dict of names to tensors), found a {}",
                                  path, describe(root)));
  std::vector<std::string> bad;
  for (const auto& [k, v] : root.entries) {
    const std::string name = k->is(Kind::string) ? k->s : describe(*k);
    if (!k->is(Kind::string) || !v->is(Kind::tensor))
      bad.push_back(fmt::format("'{}' holds a {}", name, describe(*v)));
    else
      out.emplace_back(k->s, v->tensor);
  }
  if (!bad.empty()) {
    std::string hint;
    std::set<std::string> keys;
    for (const auto& e : root.entries)
      if (e.first->is(Kind::string)) keys.insert(e.first->s);
    if (keys.count("state") && keys.count("param_groups")) hint = " (this looks like an optimizer state)";
    else if (keys.count("scale") && keys.count("growth_factor")) hint = " (this looks like a GradScaler state)";
    else if (keys.count("shadow_params")) hint = " (this looks like an EMA; use read_ema)";
    if (bad.size() > 5) bad.resize(5), bad.push_back("...");
    throw FormatError(fmt::format("{}: expected a state dict (a dict of names to tensors){}, but {}",
                                  path, hint, fmt::join(bad, ", ")));
  }
  return out;
}

}  // namespace

StateDict parse_state_dict(const std::string& bytes, const std::string& source) {
  return to_state_dict(*load_torch_bytes(bytes, source), source);
}

StateDict read_state_dict(const std::string& path) {
  return to_state_dict(*load_torch_file(path), path);
}

void write_state_dict(const std::string& path, const StateDict& sd) {
  c10::impl::GenericDict dict(c10::StringType::get(), c10::TensorType::get());
  for (const auto& [name, t] : sd) {
    if (!t.defined()) throw FormatError(fmt::format("{}: cannot write undefined tensor '{}'", path, name));
    if (dict.contains(name)) throw FormatError(fmt::format("{}: key '{}' appears twice", path, name));
    dict.insert(name, t.detach().to(at::kCPU).contiguous());
  }
  const std::vector<char> bytes = torch::pickle_save(dict);
  sg::write_file_atomic(path, std::string_view(bytes.data(), bytes.size()));
}

const at::Tensor* find_tensor(const StateDict& sd, const std::string& name) {
  for (const auto& [k, t] : sd)
    if (k == name) return &t;
  return nullptr;
}

static void collect(const torch::nn::Module& module, const std::string& prefix, StateDict& out) {
  for (const auto& item : module.named_parameters(/*recurse=*/false))
    if (item.value().defined()) out.emplace_back(prefix + item.key(), item.value());
  for (const auto& item : module.named_buffers(/*recurse=*/false))
    if (item.value().defined()) out.emplace_back(prefix + item.key(), item.value());
  for (const auto& child : module.named_children()) collect(*child.value(), prefix + child.key() + ".", out);
}

StateDict state_dict_of(const torch::nn::Module& module) {
  StateDict out;
  collect(module, "", out);
  return out;
}

void load_into(torch::nn::Module& module, const StateDict& sd, const std::string& source, bool strict) {
  const StateDict target = state_dict_of(module);
  std::unordered_map<std::string, const at::Tensor*> given;
  std::vector<std::string> duplicate, missing, unexpected, misshapen;
  for (const auto& [k, t] : sd)
    if (!given.emplace(k, &t).second) duplicate.push_back(k);
  std::set<std::string> wanted;
  for (const auto& [k, t] : target) {
    wanted.insert(k);
    auto it = given.find(k);
    if (it == given.end())
      missing.push_back(fmt::format("{} {}", k, shape_string(t.sizes())));
    else if (it->second->sizes() != t.sizes())
      misshapen.push_back(fmt::format("{}: file {} vs model {}", k, shape_string(it->second->sizes()),
                                      shape_string(t.sizes())));
  }
  for (const auto& [k, t] : sd)
    if (!wanted.count(k)) unexpected.push_back(fmt::format("{} {}", k, shape_string(t.sizes())));

  if (!duplicate.empty() || !misshapen.empty() || (strict && (!missing.empty() || !unexpected.empty()))) {
    std::string msg = fmt::format("{}: weights do not match the model ({} missing, {} unexpected, {} "
                                  "misshapen keys{}):", source, missing.size(), unexpected.size(),
                                  misshapen.size(), strict ? "" : "; non-strict, so only shapes count");
    auto list = [&](const char* what, const std::vector<std::string>& items) {
      for (const auto& item : items) msg += fmt::format("\n  {}: {}", what, item);
    };
    list("duplicate", duplicate);
    list("missing", missing);
    list("unexpected", unexpected);
    list("misshapen", misshapen);
    throw FormatError(msg);
  }
  if (!missing.empty() || !unexpected.empty())
    sg::log::warn("{}: loaded non-strictly: {} keys missing ({}), {} unexpected ({})", source,
                  missing.size(), fmt::join(missing, ", "), unexpected.size(), fmt::join(unexpected, ", "));
  torch::NoGradGuard no_grad;
  for (const auto& [k, t] : target) {
    auto it = given.find(k);
    if (it != given.end()) t.copy_(*it->second);
  }
}

}  // namespace sg::weights
