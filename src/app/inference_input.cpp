#include "app/inference_input.h"

#include <filesystem>
#include <fmt/format.h>

#include "config/curriculum.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/json_file.h"
#include "core/log.h"
#include "core/memory_limit.h"
#include "core/signals.h"
#include "core/text.h"
#include "render/seed_list.h"
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
  const MemoryAvailable avail = available_memory();
  const double cap = max_gb * double(1ull << 30);
  if (avail.bytes < cap)
    log::info("memory budget {} MiB, what {} leaves (max_memory_gb is {})", int64_t(avail.bytes / (1 << 20)),
              avail.source, max_gb);
  return std::min(cap, avail.bytes);
}

KindCommand seed_kind(std::string name, std::string kind_help, std::string command_help,
                      std::vector<graph::ParamSpec> params, KindWork work) {
  KindCommand c;
  c.kind.name = std::move(name);
  c.kind.version = 1;
  c.kind.help = std::move(kind_help);
  c.kind.params = std::move(params);
  c.kind.task_count = [](const json& p) {
    return render::task_count(render::parse_seeds(p.at("seeds").get<std::string>()).size(),
                              p.at("seeds_per_task").get<int64_t>());
  };
  c.command_help = std::move(command_help);
  c.task_help = "Only this chunk of seeds_per_task seeds (-1: all)";
  c.work = std::move(work);
  return c;
}

TaskSeeds task_seeds(const json& params, int task) {
  TaskSeeds s;
  s.all = render::parse_seeds(params.at("seeds").get<std::string>());
  s.mine = render::seeds_of_task(s.all, params.at("seeds_per_task").get<int64_t>(), task);
  return s;
}

void for_each_unfinished_seed(const std::string& kind, const std::vector<int64_t>& seeds,
                              const std::function<bool(int64_t)>& finished,
                              const std::function<void(int64_t)>& work) {
  // A seed is minutes of work at full size and writes its directory atomically: stopping between
  // seeds loses nothing, stopping inside one would lose it.
  install_stop_handlers();
  int skipped = 0, done = 0;
  for (int64_t seed : seeds) {
    if (finished(seed)) {
      ++skipped;
      continue;
    }
    if (stop_requested())
      throw Error(ExitCode::preempted,
                  fmt::format("{}: stopped on signal {} with {} of {} seed(s) done; rerun to do the rest",
                              kind, stop_signal(), skipped + done, seeds.size()));
    work(seed);
    ++done;
  }
  if (skipped) log::info("{}: {} seed(s) already done with these settings, skipped", kind, skipped);
}

void write_seed_summary(const std::string& out_dir, const std::string& kind, int task, const json& settings) {
  const std::string name = task < 0 ? kind + ".json" : fmt::format("{}-task{:04d}.json", kind, task);
  write_json_atomic((fs::path(out_dir) / name).string(), settings);
}

}  // namespace sg::app
