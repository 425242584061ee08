#include "app/kind_command.h"

#include <cctype>

#include <filesystem>

#include "app/command.h"
#include "core/error.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace sg::app {

bool register_kind_command(KindCommand kc) {
  graph::KindSpec k = kc.kind;
  const KindWork work = kc.work;
  k.run = [work](const graph::StageContext& ctx) { work(ctx.params, ctx.inputs, ctx.stage_dir, ctx.task_index); };
  graph::register_kind(std::move(k));
  const std::vector<graph::ParamSpec> specs = kc.kind.params;
  const bool fans_out = static_cast<bool>(kc.kind.task_count);
  return register_command(
      {kc.kind.name, kc.command_help, [=](CLI::App& sub) -> Runner {
         auto out = std::make_shared<std::string>();
         auto task = std::make_shared<int>(-1);
         sub.add_option("-o,--out", *out, kc.out_help)->required();
         if (fans_out) sub.add_option("--task", *task, kc.task_help);
         auto given = add_param_options(sub, specs);
         return [=] {
           work(params_from_options(*given, specs), {}, fs::absolute(*out).string(), *task);
           return 0;
         };
       }});
}

std::shared_ptr<ParamOptions> add_param_options(CLI::App& sub, const std::vector<graph::ParamSpec>& specs) {
  auto given = std::make_shared<ParamOptions>();
  for (const auto& spec : specs) {
    std::string flag = "--" + spec.name;
    for (char& c : flag) c = c == '_' ? '-' : c;
    if (spec.type == graph::ParamType::boolean) {
      given->flags[spec.name] = spec.default_value.get<bool>();
      sub.add_flag(flag + ",!--no-" + flag.substr(2), given->flags[spec.name], spec.help);
      continue;
    }
    const std::string def = spec.default_value.is_string() ? spec.default_value.get<std::string>()
                                                           : spec.default_value.dump();
    sub.add_option(flag, given->values[spec.name], spec.help + (def.empty() ? "" : " [default: " + def + "]"))
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // a later option overrides
  }
  return given;
}

bool parse_bool_option(const std::string& option, const std::string& value) {
  std::string v = value;
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v == "true" || v == "yes" || v == "1") return true;
  if (v == "false" || v == "no" || v == "0") return false;
  throw ConfigError(option + ": expected true/false/yes/no/1/0, got '" + value + "'");
}

json params_from_options(const ParamOptions& given, const std::vector<graph::ParamSpec>& specs) {
  using graph::ParamType;
  json j;
  for (const auto& spec : specs) {
    if (spec.type == ParamType::boolean) {
      j[spec.name] = given.flags.at(spec.name);
      continue;
    }
    const std::string& v = given.values.at(spec.name);
    if (v.empty()) {
      j[spec.name] = spec.default_value;
      continue;
    }
    try {
      size_t used = 0;
      if (spec.type == ParamType::integer) j[spec.name] = std::stoll(v, &used);
      else if (spec.type == ParamType::number) j[spec.name] = std::stod(v, &used);
      else if (spec.type == ParamType::path) j[spec.name] = fs::absolute(v).lexically_normal().string(), used = v.size();
      else j[spec.name] = v, used = v.size();
      if (used != v.size()) throw std::invalid_argument(v);
    } catch (const std::logic_error&) {
      throw ConfigError("--" + spec.name + ": expected a number, got '" + v + "'");
    }
  }
  return j;
}

}  // namespace sg::app
