// shadegan extract: extract_shapes.py (spec §9) from a checkpoint: per seed the SIREN's density
// on an N^3 grid (batched, no normals), its iso-surface as a binary PLY in world units, and on
// request the raw grid as .mrc. Also the `extract` stage kind, fanned out over seed chunks.

#include "app/inference_input.h"
#include "app/kind_command.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/text.h"
#include "shape/extract_seed.h"

namespace {

using nlohmann::json;

std::vector<sg::graph::ParamSpec> extract_params() {
  using sg::graph::ParamType;
  auto p = sg::app::generator_params();
  std::vector<sg::graph::ParamSpec> own = {
      {"psi", ParamType::number, 0.5, "truncation (extract_shapes.py's)"},
      {"voxel_resolution", ParamType::integer, 256, "grid points per axis (N)"},
      {"cube_size", ParamType::number, 0.3, "grid spans [-c/2, c/2] world units per axis"},
      {"sigma_threshold", ParamType::number, 35.0, "iso-value on the raw density"},
      {"relative_threshold", ParamType::number, 0.0,
       "ours: iso-value as this fraction of each grid's largest density instead of sigma_threshold "
       "(0: off); for early checkpoints, whose density stays far below 35"},
      {"grid_format", ParamType::string, "none", "raw density grid beside the mesh: none | mrc"},
      {"reference_shear", ParamType::boolean, true,
       "sample the reference's sheared grid (its float-division bug, spec §12.17); --no-reference-shear "
       "for the regular lattice"},
      {"batch_points", ParamType::integer, 100000, "SIREN points per batch (bounds memory)"},
      {"components", ParamType::string, "all",
       "ours: all (the reference's mesh) | largest (only the largest connected piece: drops specks where no "
       "training ray looked, e.g. the cube's corners)"},
  };
  p.insert(p.end(), own.begin(), own.end());
  return p;
}

void run_extract(const json& params, const std::map<std::string, std::string>& inputs, const std::string& out_dir,
                 int task) {
  const sg::app::TaskSeeds seeds = sg::app::task_seeds(params, task);
  sg::shape::ExtractSettings s;
  s.grid.resolution = params.at("voxel_resolution").get<int64_t>();
  s.grid.cube_size = params.at("cube_size").get<double>();
  s.grid.reference_shear = params.at("reference_shear").get<bool>();
  s.psi = params.at("psi").get<double>();
  s.sigma_threshold = params.at("sigma_threshold").get<double>();
  s.relative_threshold = params.at("relative_threshold").get<double>();
  if (s.relative_threshold < 0 || s.relative_threshold >= 1)
    throw sg::ConfigError("relative_threshold: expected a fraction in [0, 1) of the largest density (0: off), got " +
                          std::to_string(s.relative_threshold));
  s.batch_points = params.at("batch_points").get<int64_t>();
  if (s.batch_points < 1) throw sg::ConfigError("batch_points must be >= 1");
  const std::string format = params.at("grid_format").get<std::string>();
  if (format != "none" && format != "mrc")
    throw sg::ConfigError(sg::unknown_name_message("grid_format", format, {"none", "mrc"}));
  s.write_mrc = format == "mrc";
  const std::string components = params.at("components").get<std::string>();
  if (components != "all" && components != "largest")
    throw sg::ConfigError(sg::unknown_name_message("components", components, {"all", "largest"}));
  s.largest_piece_only = components == "largest";
  sg::shape::validate(s.grid, sg::app::memory_budget(params.at("max_memory_gb").get<double>()));

  sg::app::InferenceInput in = sg::app::load_inference_input(params, inputs);
  json settings = {{"checkpoint_hash", in.content_hash}, {"weights", params.at("weights")},
                   {"step", in.loaded.step},             {"voxel_resolution", s.grid.resolution},
                   {"cube_size", s.grid.cube_size},      {"reference_shear", s.grid.reference_shear},
                   {"psi", s.psi},                       {"sigma_threshold", s.sigma_threshold},
                   {"relative_threshold", s.relative_threshold}, {"grid_format", format},
                   {"components", components},           {"version", 1}};
  s.key = sg::hash_bytes(settings.dump());
  sg::create_dirs(out_dir);
  sg::log::info("extract: {} seed(s) of {} from {} (step {}): {}^3 grid over {} units, threshold {}", seeds.mine.size(),
                seeds.all.size(), in.checkpoint, in.loaded.step, s.grid.resolution, s.grid.cube_size,
                s.relative_threshold > 0 ? fmt::format("{} x max density", s.relative_threshold)
                                         : fmt::format("{}", s.sigma_threshold));
  sg::app::for_each_unfinished_seed(
      "extract", seeds.mine, [&](int64_t seed) { return !sg::shape::finished_seed(out_dir, seed, s.key).is_null(); },
      [&](int64_t seed) { sg::shape::extract_seed(in.loaded.generator, s, seed, out_dir); });
  settings["seeds"] = seeds.all;
  settings["checkpoint"] = in.checkpoint;
  sg::app::write_seed_summary(out_dir, "extract", task, settings);
}

const bool registered = sg::app::register_kind_command(sg::app::seed_kind(
    "extract", "Meshes (binary PLY, world units) of each seed's density iso-surface, optionally the raw grid",
    "Extract meshes of seeds of a checkpoint: density grid -> iso-surface -> binary PLY", extract_params(), run_extract));

}  // namespace
