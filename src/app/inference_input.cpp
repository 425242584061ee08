#include "app/inference_input.h"

#include <filesystem>
#include <fstream>

#include "config/curriculum.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/text.h"
#include "train/checkpoint_layout.h"
#include "train/light_source.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace sg::app {

std::vector<graph::ParamSpec> generator_params() {
  using graph::ParamType;
  return {
      {"checkpoint", ParamType::path, "",
       "checkpoint, train or run directory, or an official generator.pth; empty in a pipeline: "
       "the latest checkpoint of the train stage it runs after"},
      {"curriculum", ParamType::path, "", "curriculum .toml (required with a bare generator.pth; "
                                          "default: the one stored with the checkpoint)"},
      {"weights", ParamType::string, "ema", "ema | ema2 | raw"},
      {"seeds", ParamType::string, "0,1,2", "seeds: '0,1,2', '0 1 2' or ranges '0-7'"},
      {"seeds_per_task", ParamType::integer, 1, "seeds per fan-out task"},
      {"device", ParamType::string, "cpu", "LibTorch device"},
      {"max_memory_gb", ParamType::number, 8.0, "refuse settings needing more (also capped by free memory)"},
  };
}

InferenceInput load_inference_input(const json& params, const std::map<std::string, std::string>& inputs) {
  std::string path = params.at("checkpoint").get<std::string>();
  if (path.empty()) {
    std::vector<std::string> tried;
    for (const auto& [name, dir] : inputs) {
      if (train::find_latest_checkpoint(dir, /*verify_hashes=*/false)) {
        path = dir;
        break;
      }
      tried.push_back(name);
    }
    if (path.empty())
      throw ConfigError("no checkpoint: set `checkpoint`, or run after a train stage with a checkpoint" +
                        std::string(tried.empty() ? " (this stage has no inputs)"
                                                  : " (inputs without one: " + join(tried, ", ") + ")"));
  }
  if (!fs::exists(path)) throw IoError(path + ": checkpoint not found");
  std::optional<config::Curriculum> cur;
  const std::string cpath = params.at("curriculum").get<std::string>();
  if (!cpath.empty()) cur = config::load_curriculum(cpath);
  InferenceInput in;
  in.loaded = train::load_generator(path, cur, train::weights_choice_from_name(params.at("weights").get<std::string>()),
                                    params.at("device").get<std::string>());
  in.checkpoint = in.loaded.source;
  // A checkpoint's meta.json records every file's XXH3: its own hash is the content hash.
  const fs::path meta = fs::path(in.loaded.source) / "meta.json";
  in.content_hash = fs::is_directory(in.loaded.source) ? hash_file(meta.string()) : hash_file(in.loaded.weights_file);
  if (!fs::is_directory(in.loaded.source) && in.loaded.weights_file != in.loaded.source)
    in.content_hash = hash_bytes(hash_file(in.loaded.source) + in.content_hash);
  return in;
}

model::LightPrior find_prior(const json& params, const InferenceInput& in,
                             const std::map<std::string, std::string>& inputs, bool required, std::string* chosen) {
  const std::string given = params.value("light_prior", std::string());
  std::string synth_dir;
  for (const auto& [name, dir] : inputs)
    if (fs::exists(fs::path(dir) / "light_prior.pth")) synth_dir = dir;
  // A checkpoint directory may carry its prior (the trainer may copy it there).
  if (synth_dir.empty() && fs::is_directory(in.checkpoint) && fs::exists(fs::path(in.checkpoint) / "light_prior.pth"))
    synth_dir = in.checkpoint;
  const auto& g = in.loaded.curriculum.globals;
  if (!required && given.empty() && g.mvn_path.empty() && synth_dir.empty()) return {};
  if (!required && given.empty() && !g.mvn_path.empty() && !fs::exists(g.mvn_path) && synth_dir.empty()) return {};
  return train::find_light_prior(g, given, synth_dir, chosen);
}

double memory_budget(double max_gb) {
  double budget = max_gb * double(1ull << 30);
  std::ifstream f("/proc/meminfo");
  std::string key;
  double kb = 0;
  std::string unit;
  while (f >> key >> kb >> unit)
    if (key == "MemAvailable:") budget = std::min(budget, kb * 1024);
  return budget;
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
