// shadegan train: ShadeGAN training (src/train/trainer.h) over MPI ranks, resumable from
// <run>/train/LATEST; exits 75 when a signal made it checkpoint and stop. Also the `train`
// stage kind (inputs: a shard stage, and a synth stage for the Synthetic set's light prior).
#include <filesystem>
#include <memory>

#include "app/command.h"
#include "app/kind_command.h"
#include "config/curriculum.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "graph/kind.h"
#include "train/trainer.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::vector<sg::graph::ParamSpec> train_params() {
  using sg::graph::ParamType;
  return {
      {"curriculum", ParamType::path, nullptr, "curriculum file (configs/<name>.toml)"},
      {"set", ParamType::string_list, json::array(), "curriculum overrides key=value (as `config show --set`)"},
      {"data", ParamType::path, "", "shard directory; empty: the shard stage this one runs after (<run>/shard)"},
      {"light_prior", ParamType::path, "",
       "light prior {mean, cov} (.pth or .toml); empty: the curriculum's mvn_path, else the synth stage's light_prior.pth"},
      {"init", ParamType::path, "",
       "generator.pth to start from (an official file, as the reference's --load_dir; ema.pth beside it is used too); "
       "empty: random init. Ignored when resuming from a checkpoint"},
      {"ckpt_every", ParamType::integer, 100, "checkpoint every N steps (and at the end, and on a signal)"},
      {"keep", ParamType::integer, 3, "checkpoints kept (the newest K)"},
      {"sample_every", ParamType::integer, 100, "sample grid and loss curve every N steps; 0 = never"},
      {"sample_size", ParamType::integer, 64, "side of each sample image"},
      {"sample_steps", ParamType::integer, 0,
       "samples per ray of the sample grid; 0: training's. Above the training size, more samples keep the "
       "random placement of the fine samples out of the depth map and its shading"},
      {"seed", ParamType::integer, 0, "initial weights, data order and every random draw follow from it"},
      {"device", ParamType::string, "cpu", "cpu | cuda[:N] (CUDA only where LibTorch was built with it)"},
      {"lpips_backbone", ParamType::path, "",
       "torchvision's VGG16 (vgg16-397923af.pth) for depth_loss = \"l1+lpips\"; empty: $TORCH_HOME/hub/checkpoints"},
      {"lpips_heads", ParamType::path, "",
       "LPIPS v0.1 heads (vgg.pth, lin0..lin4) for depth_loss = \"l1+lpips\"; empty: $TORCH_HOME/hub/checkpoints"},
      {"lpips_weights", ParamType::path, "",
       "one state dict holding both the VGG16 backbone and the heads, instead of lpips_backbone and lpips_heads"},
      {"stop_step", ParamType::integer, 0, "stop at this step (0 = the curriculum's end)"},
      {"fix_unique_lr", ParamType::boolean, false,
       "give unique_lr the groups the reference meant (surface net x10, mapping x0.05); default: its actual "
       "behaviour, one group (spec 12.1)"},
      {"nonfinite_limit", ParamType::integer, 3, "consecutive non-finite steps (each skipped) before rolling back"},
      {"max_rollbacks", ParamType::integer, 3, "rollbacks to the last checkpoint before failing"},
      {"threads", ParamType::integer, 0, "threads per rank; 0 = the CPUs this rank may use (affinity, cgroup quota, SLURM_CPUS_PER_TASK, OMP_NUM_THREADS) over the ranks sharing them"},
  };
}

// Everything the stage's parameters alone decide, checked: the curriculum with its overrides and
// the option ranges. The kind's `check` runs it when a run is planned; options_from adds the
// directories, which exist only when the stage starts.
sg::train::TrainOptions options_from_params(const json& p) {
  sg::train::TrainOptions o;
  o.curriculum = sg::config::load_curriculum(p.at("curriculum").get<std::string>());
  for (const auto& kv : p.at("set")) {
    const std::string s = kv.get<std::string>();
    const auto eq = s.find('=');
    if (eq == std::string::npos) throw sg::ConfigError("train: set: expected key=value, got '" + s + "'");
    o.curriculum.apply_override(s.substr(0, eq), s.substr(eq + 1));
  }
  o.data_dir = p.at("data").get<std::string>();
  o.light_prior = p.at("light_prior").get<std::string>();
  o.init = p.at("init").get<std::string>();
  o.lpips_weights = p.at("lpips_weights").get<std::string>();
  o.lpips_backbone = p.at("lpips_backbone").get<std::string>();
  o.lpips_heads = p.at("lpips_heads").get<std::string>();
  o.ckpt_every = p.at("ckpt_every").get<int64_t>();
  o.keep = static_cast<int>(p.at("keep").get<int64_t>());
  o.sample_every = p.at("sample_every").get<int64_t>();
  o.sample_size = p.at("sample_size").get<int64_t>();
  o.sample_steps = p.at("sample_steps").get<int64_t>();
  const int64_t seed = p.at("seed").get<int64_t>();
  o.device = p.at("device").get<std::string>();
  o.stop_step = p.at("stop_step").get<int64_t>();
  o.fix_unique_lr = p.at("fix_unique_lr").get<bool>();
  o.nonfinite_limit = static_cast<int>(p.at("nonfinite_limit").get<int64_t>());
  o.max_rollbacks = static_cast<int>(p.at("max_rollbacks").get<int64_t>());
  o.threads = static_cast<int>(p.at("threads").get<int64_t>());
  if (seed < 0) throw sg::ConfigError("train: seed must be >= 0");
  if (o.ckpt_every < 1) throw sg::ConfigError("train: ckpt_every must be >= 1");
  if (o.keep < 1) throw sg::ConfigError("train: keep must be >= 1");
  if (o.sample_every < 0 || o.stop_step < 0) throw sg::ConfigError("train: sample_every and stop_step must be >= 0");
  if (o.sample_size < 4) throw sg::ConfigError("train: sample_size must be >= 4");
  if (o.sample_steps != 0 && (o.sample_steps < 2 || o.sample_steps > 1024))
    throw sg::ConfigError("train: sample_steps must be 0 (training's) or in [2, 1024]");
  if (o.nonfinite_limit < 1 || o.max_rollbacks < 0)
    throw sg::ConfigError("train: nonfinite_limit must be >= 1 and max_rollbacks >= 0");
  o.seed = static_cast<uint64_t>(seed);
  sg::Hasher h;
  h.field(o.curriculum.to_json().dump()).field(p.dump());
  o.fingerprint = h.hex();
  return o;
}

sg::train::TrainOptions options_from(const json& p, const std::string& train_dir, const std::string& data_default,
                                     const std::string& synth_default) {
  sg::train::TrainOptions o = options_from_params(p);
  o.train_dir = train_dir;
  if (o.data_dir.empty()) o.data_dir = data_default;
  if (o.data_dir.empty() || !fs::exists(fs::path(o.data_dir) / "manifest.json"))
    throw sg::ConfigError("train: no shard directory with manifest.json (give data, or run after a shard stage)" +
                          (o.data_dir.empty() ? std::string() : ": " + o.data_dir));
  o.synth_dir = synth_default;
  return o;
}

void run(const sg::train::TrainOptions& o) {
  const int code = sg::train::run_training(o);
  if (code == sg::to_int(sg::ExitCode::preempted))
    throw sg::Error(sg::ExitCode::preempted, "train: stopped on a signal after checkpointing; rerun to resume");
}

const bool kind_registered = [] {
  sg::graph::KindSpec k;
  k.name = "train";
  k.version = 1;
  k.help = "Train ShadeGAN on a shard set over MPI ranks (checkpoints under ckpt/, LATEST; resumable; exit 75 on preemption)";
  k.params = train_params();
  k.mpi = true;
  k.run = [](const sg::graph::StageContext& ctx) {
    std::string data, synth;
    for (const auto& [name, dir] : ctx.inputs) {
      if (fs::exists(fs::path(dir) / "manifest.json")) data = dir;
      if (fs::exists(fs::path(dir) / "light_prior.pth")) synth = dir;
    }
    run(options_from(ctx.params, ctx.stage_dir, data, synth));
  };
  k.check = [](const json& p) { options_from_params(p); };
  sg::graph::register_kind(std::move(k));
  return true;
}();

const bool registered = sg::app::register_command(
    {"train", "Train ShadeGAN (MPI data parallel; resumes from <run>/train/LATEST; exit 75 when preempted)",
     [](CLI::App& sub) -> sg::app::Runner {
       using sg::graph::ParamType;
       auto run_dir = std::make_shared<std::string>();
       sub.add_option("--run-dir", *run_dir, "Run directory: writes <run>/train, reads <run>/shard and <run>/synth")
           ->required();
       const auto specs = train_params();
       auto given = std::make_shared<std::map<std::string, std::string>>();
       auto sets = std::make_shared<std::vector<std::string>>();
       for (const auto& spec : specs) {
         if (spec.type == ParamType::string_list) continue;
         std::string flag = "--" + spec.name;
         for (char& c : flag) c = c == '_' ? '-' : c;
         const std::string def = spec.default_value.is_null()     ? ""
                                 : spec.default_value.is_string() ? spec.default_value.get<std::string>()
                                                                  : spec.default_value.dump();
         auto* opt = sub.add_option(flag, (*given)[spec.name], spec.help + (def.empty() ? "" : " [default: " + def + "]"));
         if (spec.default_value.is_null()) opt->required();
       }
       sub.add_option("--set", *sets, "Curriculum override key=value (repeatable)");
       return [=] {
         json p;
         for (const auto& spec : specs) {
           if (spec.type == ParamType::string_list) continue;
           const std::string& v = given->at(spec.name);
           if (v.empty()) {
             p[spec.name] = spec.default_value;
             continue;
           }
           std::string flag = "--" + spec.name;
           for (char& c : flag) c = c == '_' ? '-' : c;
           if (spec.type == ParamType::boolean) {
             p[spec.name] = sg::app::parse_bool_option(flag, v);
             continue;
           }
           try {
             size_t used = v.size();
             if (spec.type == ParamType::integer) p[spec.name] = std::stoll(v, &used);
             else if (spec.type == ParamType::path) p[spec.name] = fs::absolute(v).lexically_normal().string();
             else p[spec.name] = v;
             if (used != v.size()) throw std::invalid_argument(v);
           } catch (const std::logic_error&) {
             throw sg::ConfigError(flag + ": expected a number, got '" + v + "'");
           }
         }
         p["set"] = *sets;
         const fs::path r = fs::absolute(*run_dir);
         const std::string data = fs::exists(r / "shard" / "manifest.json") ? (r / "shard").string() : "";
         const std::string synth = fs::exists(r / "synth" / "light_prior.pth") ? (r / "synth").string() : "";
         run(options_from(p, (r / "train").string(), data, synth));
         return 0;
       };
     }});

}  // namespace
