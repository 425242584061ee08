// shadegan extract: extract_shapes.py (spec §9) from a checkpoint: per seed the SIREN's density
// on an N^3 grid (batched, no normals), its iso-surface as a binary PLY in world units, and on
// request the raw grid as .mrc. Also the `extract` stage kind, fanned out over seed chunks.
#include <filesystem>
#include <fmt/format.h>

#include "app/command.h"
#include "app/inference_input.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/json_file.h"
#include "core/log.h"
#include "core/text.h"
#include "graph/kind.h"
#include "render/seed_list.h"
#include "shape/extract_seed.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::vector<sg::graph::ParamSpec> extract_params() {
  using sg::graph::ParamType;
  auto p = sg::app::generator_params();
  std::vector<sg::graph::ParamSpec> own = {
      {"psi", ParamType::number, 0.5, "truncation (extract_shapes.py's)"},
      {"voxel_resolution", ParamType::integer, 256, "grid points per axis (N)"},
      {"cube_size", ParamType::number, 0.3, "grid spans [-c/2, c/2] world units per axis"},
      {"sigma_threshold", ParamType::number, 35.0, "iso-value on the raw density"},
      {"grid_format", ParamType::string, "none", "raw density grid beside the mesh: none | mrc"},
      {"reference_shear", ParamType::boolean, true,
       "sample the reference's sheared grid (its float-division bug, spec §12.17); --no-reference-shear "
       "for the regular lattice"},
      {"batch_points", ParamType::integer, 100000, "SIREN points per batch (bounds memory)"},
  };
  p.insert(p.end(), own.begin(), own.end());
  return p;
}

void run_extract(const json& params, const std::map<std::string, std::string>& inputs, const std::string& out_dir,
                 int task) {
  const std::vector<int64_t> all = sg::render::parse_seeds(params.at("seeds").get<std::string>());
  const std::vector<int64_t> seeds =
      sg::render::seeds_of_task(all, params.at("seeds_per_task").get<int64_t>(), task);
  sg::shape::ExtractSettings s;
  s.grid.resolution = params.at("voxel_resolution").get<int64_t>();
  s.grid.cube_size = params.at("cube_size").get<double>();
  s.grid.reference_shear = params.at("reference_shear").get<bool>();
  s.psi = params.at("psi").get<double>();
  s.sigma_threshold = params.at("sigma_threshold").get<double>();
  s.batch_points = params.at("batch_points").get<int64_t>();
  if (s.batch_points < 1) throw sg::ConfigError("batch_points must be >= 1");
  const std::string format = params.at("grid_format").get<std::string>();
  if (format != "none" && format != "mrc")
    throw sg::ConfigError(sg::unknown_name_message("grid_format", format, {"none", "mrc"}));
  s.write_mrc = format == "mrc";
  sg::shape::validate(s.grid, sg::app::memory_budget(params.at("max_memory_gb").get<double>()));

  sg::app::InferenceInput in = sg::app::load_inference_input(params, inputs);
  json settings = {{"checkpoint_hash", in.content_hash}, {"weights", params.at("weights")},
                   {"step", in.loaded.step},             {"voxel_resolution", s.grid.resolution},
                   {"cube_size", s.grid.cube_size},      {"reference_shear", s.grid.reference_shear},
                   {"psi", s.psi},                       {"sigma_threshold", s.sigma_threshold},
                   {"grid_format", format},              {"version", 1}};
  s.key = sg::hash_bytes(settings.dump());
  sg::create_dirs(out_dir);
  sg::log::info("extract: {} seed(s) of {} from {} (step {}): {}^3 grid over {} units, threshold {}", seeds.size(),
                all.size(), in.checkpoint, in.loaded.step, s.grid.resolution, s.grid.cube_size, s.sigma_threshold);
  int skipped = 0;
  for (int64_t seed : seeds) {
    if (!sg::shape::finished_seed(out_dir, seed, s.key).is_null()) {
      ++skipped;
      continue;
    }
    sg::shape::extract_seed(in.loaded.generator, s, seed, out_dir);
  }
  if (skipped) sg::log::info("extract: {} seed(s) already done with these settings, skipped", skipped);
  settings["seeds"] = all;
  settings["checkpoint"] = in.checkpoint;
  sg::write_json_atomic((fs::path(out_dir) / (task < 0 ? std::string("extract.json")
                                                       : fmt::format("extract-task{:04d}.json", task)))
                            .string(),
                        settings);
}

const bool kind_registered = [] {
  sg::graph::KindSpec k;
  k.name = "extract";
  k.version = 1;
  k.help = "Meshes (binary PLY, world units) of each seed's density iso-surface, optionally the raw grid";
  k.params = extract_params();
  k.run = [](const sg::graph::StageContext& ctx) { run_extract(ctx.params, ctx.inputs, ctx.stage_dir, ctx.task_index); };
  k.task_count = [](const json& params) {
    return sg::render::task_count(sg::render::parse_seeds(params.at("seeds").get<std::string>()).size(),
                                  params.at("seeds_per_task").get<int64_t>());
  };
  sg::graph::register_kind(std::move(k));
  return true;
}();

const bool registered = sg::app::register_command(
    {"extract", "Extract meshes of seeds of a checkpoint: density grid -> iso-surface -> binary PLY",
     [](CLI::App& sub) -> sg::app::Runner {
       auto out = std::make_shared<std::string>();
       auto task = std::make_shared<int>(-1);
       sub.add_option("-o,--out", *out, "Output directory")->required();
       sub.add_option("--task", *task, "Only this chunk of seeds_per_task seeds (-1: all)");
       const auto specs = extract_params();
       auto given = sg::app::add_param_options(sub, specs);
       return [=] {
         run_extract(sg::app::params_from_options(*given, specs), {}, fs::absolute(*out).string(), *task);
         return 0;
       };
     }});

}  // namespace
