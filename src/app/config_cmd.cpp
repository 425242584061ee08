// shadegan config show <curriculum.toml> [--step N] [--set key=value ...] [--json]:
// the parameters a training run would use at step N, as the reference resolves them (spec §1.1).
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/command.h"
#include "config/curriculum.h"
#include "core/error.h"

namespace {

struct ShowOptions {
  std::string file;
  int64_t step = 0;
  std::vector<std::string> sets;
  bool json = false;
};

std::string text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "none";
  return v.dump();
}

void row(const std::string& key, const std::string& value) {
  std::printf("%-22s %s\n", key.c_str(), value.c_str());
}

int run_show(const ShowOptions& o) {
  sg::config::Curriculum c = sg::config::load_curriculum(o.file);
  for (const auto& s : o.sets) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      throw sg::ConfigError("--set " + s + ": expected key=value, e.g. --set stages.0.batch_size=8");
    c.apply_override(s.substr(0, eq), s.substr(eq + 1));
  }
  const sg::config::Resolved r = c.at(o.step);
  nlohmann::json j = r.to_json();

  if (o.json) {
    j["curriculum"] = c.name;
    j["file"] = c.file;
    j["end_step"] = c.end_step;
    j["overrides"] = o.sets;
    nlohmann::json starts = nlohmann::json::array();
    for (const auto& s : c.stages) starts.push_back(s.start);
    j["stage_starts"] = starts;
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }

  std::string starts;
  for (const auto& s : c.stages) starts += (starts.empty() ? "" : ", ") + std::to_string(s.start);
  std::printf("# %s (%s) at step %lld\n", c.name.c_str(), c.file.c_str(),
              static_cast<long long>(o.step));
  for (const auto& s : o.sets) std::printf("# --set %s\n", s.c_str());
  row("step", std::to_string(r.step));
  row("done", r.done ? "true (the empty final stage: training is over)" : "false");
  row("stage", std::to_string(r.stage.start) + "  (stages start at " + starts + "; end at " +
                   std::to_string(c.end_step) + ")");
  row("last_upsample_step", std::to_string(r.last_upsample_step));
  row("next_upsample_step",
      r.next_upsample_step ? std::to_string(*r.next_upsample_step) : "inf");
  std::printf("\n# stage %lld\n", static_cast<long long>(r.stage.start));
  if (r.done) {
    std::printf("(empty: training ends at step %lld)\n", static_cast<long long>(c.end_step));
  } else {
    for (const char* k : {"batch_size", "num_steps", "img_size", "batch_split", "gen_lr", "disc_lr"})
      row(k, text(j["stage"][k]));
  }
  std::printf("\n# globals\n");
  for (const auto& [k, v] : j["globals"].items()) row(k, text(v));
  return 0;
}

const bool registered = sg::app::register_command(
    {"config", "Inspect curricula (configs/*.toml)",
     [](CLI::App& sub) -> sg::app::Runner {
       auto o = std::make_shared<ShowOptions>();
       sub.require_subcommand(1);
       CLI::App* show = sub.add_subcommand(
           "show", "Print the parameters a curriculum resolves to at a training step");
       show->add_option("curriculum", o->file, "Curriculum file (configs/<name>.toml)")
           ->required();
       show->add_option("--step", o->step, "Training step (default 0)");
       show->add_option("--set", o->sets,
                        "Override a key: --set fov=15, --set stages.30000.batch_size=8 "
                        "(repeatable)")
           ->allow_extra_args(false);  // one key=value per --set: never swallow the file name
       show->add_flag("--json", o->json, "Print as JSON");
       return [o, show] {
         if (show->parsed()) return run_show(*o);
         return sg::to_int(sg::ExitCode::usage);
       };
     }});

}  // namespace
