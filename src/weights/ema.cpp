#include "weights/ema.h"
#include "weights/ema_check.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "weights/state_dict.h"
#include "weights/torch_zip.h"

namespace sg::weights {

namespace {

using Kind = PyValue::Kind;

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::vector<at::Tensor> tensor_list(const PyValue* v, const char* name, const std::string& path) {
  std::vector<at::Tensor> out;
  if (!v || v->is(Kind::none)) return out;
  if (!v->is(Kind::list) && !v->is(Kind::tuple))
    throw FormatError(fmt::format("{}: EMA attribute '{}' is a {}, expected a list of tensors", path,
                                  name, describe(*v)));
  for (size_t k = 0; k < v->items.size(); ++k) {
    if (!v->items[k]->is(Kind::tensor))
      throw FormatError(fmt::format("{}: EMA {}[{}] is a {}, expected a tensor", path, name, k,
                                    describe(*v->items[k])));
    out.push_back(v->items[k]->tensor);
  }
  return out;
}

}  // namespace

EmaState read_ema(const std::string& path) {
  const PyRef root = load_torch_file(path);
  const bool object = root->is(Kind::object) && ends_with(root->s, "ExponentialMovingAverage");
  const bool dict = root->is(Kind::dict) && attribute(*root, "shadow_params");
  if (!object && !dict)
    throw FormatError(fmt::format("{}: expected a torch_ema ExponentialMovingAverage (or a dict with "
                                  "decay, num_updates, shadow_params), found a {}", path, describe(*root)));
  EmaState ema;
  const PyValue* decay = attribute(*root, "decay");
  if (!decay || !(decay->is(Kind::floating) || decay->is(Kind::integer)))
    throw FormatError(fmt::format("{}: EMA decay is {}, expected a float", path,
                                  decay ? describe(*decay) : "missing"));
  ema.decay = decay->is(Kind::floating) ? decay->f : static_cast<double>(decay->i);
  const PyValue* n = attribute(*root, "num_updates");
  if (!n || n->is(Kind::none)) ema.num_updates = -1;
  else if (n->is(Kind::integer)) ema.num_updates = n->i;
  else throw FormatError(fmt::format("{}: EMA num_updates is a {}, expected an int", path, describe(*n)));
  const PyValue* shadows = attribute(*root, "shadow_params");
  if (!shadows) throw FormatError(path + ": EMA object has no shadow_params");
  ema.shadow_params = tensor_list(shadows, "shadow_params", path);
  ema.collected_params = tensor_list(attribute(*root, "collected_params"), "collected_params", path);
  return ema;
}

void write_ema(const std::string& path, const EmaState& ema) {
  auto list = [&](const std::vector<at::Tensor>& ts, const char* name) {
    c10::List<at::Tensor> out;
    for (size_t k = 0; k < ts.size(); ++k) {
      if (!ts[k].defined()) throw FormatError(fmt::format("{}: EMA {}[{}] is undefined", path, name, k));
      out.push_back(ts[k].detach().to(at::kCPU).contiguous());
    }
    return out;
  };
  c10::impl::GenericDict dict(c10::StringType::get(), c10::AnyType::get());
  dict.insert("decay", ema.decay);
  dict.insert("num_updates", ema.num_updates < 0 ? c10::IValue() : c10::IValue(ema.num_updates));
  dict.insert("shadow_params", list(ema.shadow_params, "shadow_params"));
  dict.insert("collected_params", list(ema.collected_params, "collected_params"));
  const std::vector<char> bytes = torch::pickle_save(dict);
  sg::write_file_atomic(path, std::string_view(bytes.data(), bytes.size()));
}

void load_ema_into(torch::nn::Module& module, const EmaState& ema, const std::string& source) {
  std::vector<std::pair<std::string, at::Tensor>> params;
  const StateDict all = state_dict_of(module);
  for (const auto& item : module.named_parameters(/*recurse=*/true))
    if (item.value().requires_grad()) params.emplace_back(item.key(), item.value());
  // named_parameters(true) and state_dict_of() both walk modules depth first, parameters first,
  // which is Python's parameters() order.
  check_ema_shapes(params, ema, source);
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < params.size(); ++k) params[k].second.copy_(ema.shadow_params[k]);
}

void check_ema_shapes(const std::vector<std::pair<std::string, at::Tensor>>& params, const EmaState& ema,
                      const std::string& source) {
  std::vector<std::string> bad;
  const size_t n = std::max(params.size(), ema.shadow_params.size());
  for (size_t k = 0; k < n; ++k) {
    if (k >= ema.shadow_params.size())
      bad.push_back(fmt::format("missing shadow_params[{}] for {} {}", k, params[k].first,
                                shape_string(params[k].second.sizes())));
    else if (k >= params.size())
      bad.push_back(fmt::format("unexpected shadow_params[{}] {} (the model has {} parameters)", k,
                                shape_string(ema.shadow_params[k].sizes()), params.size()));
    else if (ema.shadow_params[k].sizes() != params[k].second.sizes())
      bad.push_back(fmt::format("misshapen shadow_params[{}] for {}: file {} vs model {}", k,
                                params[k].first, shape_string(ema.shadow_params[k].sizes()),
                                shape_string(params[k].second.sizes())));
  }
  if (!bad.empty())
    throw FormatError(fmt::format("{}: EMA shadows do not match the model ({} in the file, {} "
                                  "parameters in the model):\n  {}", source, ema.shadow_params.size(),
                                  params.size(), fmt::join(bad, "\n  ")));
}

}  // namespace sg::weights
