// shadegan render: render.py (spec §8) from a checkpoint: per seed a yaw sweep x light sweep of
// images with albedo, depth, normal and shading maps, a contact sheet and a GIF of the rotation.
// Also the `render` stage kind, which fans out over chunks of seeds (seeds_per_task).

#include "app/inference_input.h"
#include "app/kind_command.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "render/render_seed.h"
#include "train/model_setup.h"

namespace {

using nlohmann::json;

std::vector<sg::graph::ParamSpec> render_params() {
  using sg::graph::ParamType;
  auto p = sg::app::generator_params();
  std::vector<sg::graph::ParamSpec> own = {
      {"psi", ParamType::number, 0.5, "truncation (render.py's default)"},
      {"image_size", ParamType::integer, 256, "image side in pixels"},
      {"num_steps", ParamType::integer, 0, "samples per ray; 0: what the scheduler reached at the checkpoint"},
      {"delta", ParamType::string, "auto",
       "surface-tracking band: a number, 'off' (full rays), or 'auto' (the scheduler's at the checkpoint)"},
      {"rotate", ParamType::boolean, false, "yaw sweep h_mean + [-0.5, -0.25, 0, 0.25, 0.5] (and a GIF)"},
      {"relight", ParamType::boolean, false, "light sweep l = (0.17, 0.42, dx, 0.3), dx in [-1.5, -1, 0, 1, 1.5]"},
      {"light_prior", ParamType::path, "", "{mean, cov} .pth or .toml; default: the curriculum's mvn_path, "
                                           "or light_prior.pth of an input (synth) stage"},
      {"lock_view_dependence", ParamType::boolean, false, "view direction fixed to (0, 0, -1)"},
      {"max_batch_size", ParamType::integer, 50000, "SIREN points per chunk (bounds memory)"},
  };
  p.insert(p.end(), own.begin(), own.end());
  return p;
}

// Everything is checked (seeds, task, checkpoint, curriculum vs weights, options, memory)
// before the first pixel.
void run_render(const json& params, const std::map<std::string, std::string>& inputs, const std::string& out_dir,
                int task) {
  const sg::app::TaskSeeds seeds = sg::app::task_seeds(params, task);
  if (params.at("image_size").get<int64_t>() < 1)
    throw sg::ConfigError("image_size must be >= 1, got " + std::to_string(params.at("image_size").get<int64_t>()));

  sg::app::InferenceInput in = sg::app::load_inference_input(params, inputs);
  const sg::config::Curriculum& cur = in.loaded.curriculum;
  const int64_t step = std::max<int64_t>(in.loaded.step, 0);
  sg::render::RenderSettings s;
  s.options = sg::train::inference_render_options(cur, step);
  if (in.loaded.step < 0 && cur.globals.surf_track) {
    // An official generator.pth has no step: the fully decayed schedule (the released deltas).
    s.options = sg::train::inference_render_options(cur, cur.end_step);
  }
  s.options.img_size = params.at("image_size").get<int64_t>();
  s.options.psi = params.at("psi").get<double>();
  s.options.max_batch_size = params.at("max_batch_size").get<int64_t>();
  s.options.lock_view_dependence = params.at("lock_view_dependence").get<bool>();
  s.options.camera.dist = sg::model::CameraDist::fixed;
  if (const int64_t n = params.at("num_steps").get<int64_t>(); n != 0) s.options.num_steps = n;
  const std::string delta = params.at("delta").get<std::string>();
  if (delta == "off") {
    s.options.delta = -1;
  } else if (delta != "auto") {
    try {
      size_t used = 0;
      s.options.delta = std::stod(delta, &used);
      if (used != delta.size()) throw std::invalid_argument(delta);
    } catch (const std::logic_error&) {
      throw sg::ConfigError("delta: expected a number, 'off' or 'auto', got '" + delta + "'");
    }
    if (s.options.delta > 0 && !cur.globals.surf_track)
      throw sg::ConfigError("delta " + delta + ": curriculum " + cur.name + " has no surface tracking net");
  }
  s.rotate = params.at("rotate").get<bool>();
  s.relight = params.at("relight").get<bool>();
  sg::render::validate(s, cur.globals.siren_hidden_dim,
                       sg::app::memory_budget(params.at("max_memory_gb").get<double>()));
  std::string prior_file;
  const sg::model::LightPrior prior = sg::app::find_prior(params, in, inputs, !s.relight, &prior_file);

  // The key of every seed's record: the weights' content and every setting that shapes pixels.
  json settings = {{"checkpoint_hash", in.content_hash},  {"weights", params.at("weights")},
                   {"step", in.loaded.step},              {"img_size", s.options.img_size},
                   {"num_steps", s.options.num_steps},    {"delta", s.options.delta},
                   {"psi", s.options.psi},                {"rotate", s.rotate},
                   {"relight", s.relight},                {"lock_view_dependence", s.options.lock_view_dependence},
                   {"light_prior", prior_file.empty() ? "" : sg::hash_file(prior_file)},
                   {"version", 1}};
  s.key = sg::hash_bytes(settings.dump());
  sg::create_dirs(out_dir);
  sg::log::info("render: {} seed(s) of {} from {} (step {}, {} weights): {} px, {} steps, delta {}, psi {}",
                seeds.mine.size(), seeds.all.size(), in.checkpoint, in.loaded.step, params.at("weights").get<std::string>(),
                s.options.img_size, s.options.num_steps, s.options.delta, s.options.psi);
  sg::app::for_each_unfinished_seed(
      "render", seeds.mine, [&](int64_t seed) { return !sg::render::finished_seed(out_dir, seed, s.key).is_null(); },
      [&](int64_t seed) { sg::render::render_seed(in.loaded.generator, prior, s, seed, out_dir); });
  settings["seeds"] = seeds.all;
  settings["checkpoint"] = in.checkpoint;
  settings["light_prior_file"] = prior_file;
  sg::app::write_seed_summary(out_dir, "render", task, settings);
}

const bool registered = sg::app::register_kind_command(sg::app::seed_kind(
    "render", "Images of each seed over a yaw and light sweep, with depth/normal/albedo maps, sheet and GIF",
    "Render seeds of a checkpoint: yaw x light sweeps, depth/normal/albedo maps, sheet, GIF", render_params(), run_render));

}  // namespace
