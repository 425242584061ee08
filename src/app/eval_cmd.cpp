// shadegan eval and the `eval` stage kind: FID / KID / IS of a trained generator against the
// real images of a shard set (spec §10, the reference's eval_metrics.py defaults), shape
// accuracy by inversion where the data has ground truth, and the learning measure against an
// untrained twin and real-vs-real (datasets/README.md). Runs on every MPI rank; rank 0 writes
// <out>/metrics.json:
//   {"metrics": {name: number}, "skipped": {name: reason}, "settings": {...},
//    "reference_points": {"untrained": {...}, "real_vs_real": {...}}, "checkpoint": {...}}
#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <thread>

#include <fmt/format.h>
#include <torch/torch.h>

#include "app/kind_command.h"
#include "config/curriculum.h"
#include "core/build_info.h"
#include "core/error.h"
#include "core/json_file.h"
#include "core/log.h"
#include "core/text.h"
#include "core/signals.h"
#include "data/synth.h"
#include "graph/kind.h"
#include "metrics/evaluation.h"
#include "metrics/fid_inception.h"
#include "metrics/inversion_normals.h"
#include "mpi/mpi.h"
#include "mpi/rank_threads.h"
#include "train/checkpoint_layout.h"
#include "train/generator_load.h"
#include "train/light_source.h"
#include "train/model_setup.h"
#include "train/train_step.h"

namespace {

using nlohmann::json;
using sg::graph::ParamType;
namespace fs = std::filesystem;

std::vector<sg::graph::ParamSpec> eval_params() {
  return {
      {"checkpoint", ParamType::path, "", "checkpoint, train-stage or run directory, or a generator.pth; empty: the train stage this runs after"},
      {"curriculum", ParamType::path, "", "curriculum (.toml); empty: the checkpoint's own (required for a bare generator.pth)"},
      {"weights", ParamType::string, "ema", "ema | ema2 | raw | untrained (the checkpoint's curriculum freshly initialised from untrained_seed: a baseline row)"},
      {"shards", ParamType::path, "", "shard directory of the real images; empty: the shard stage this runs after"},
      {"synth", ParamType::path, "", "synth directory the shards were made from (held-out shape samples, light prior); empty: a synth stage this runs after, if any"},
      {"metrics", ParamType::string, "auto", "auto (FID/KID/IS when Inception weights resolve, else skipped; shape where ground truth exists; learning) | all | comma list of fid, kid, is, shape, learning"},
      {"inception_weights", ParamType::path, "", "pt_inception-2015-12-05-6726825d.pth; empty: $SG_INCEPTION_WEIGHTS"},
      {"num_images", ParamType::integer, 2048, "generated images (eval_metrics.py --num_images)"},
      {"real_images", ParamType::integer, 8000, "real images, at most the set's count (fid_evaluation.py --num_imgs)"},
      {"img_size", ParamType::integer, 128, "resolution of fakes and reals"},
      {"psi", ParamType::number, 1.0, "truncation of the fakes"},
      {"num_steps", ParamType::integer, 12, "samples per ray"},
      {"delta", ParamType::number, -1.0, "surface-tracking band; <= 0: full ray range (eval_metrics.py's default)"},
      {"batch_size", ParamType::integer, 4, "images per generator / Inception / inversion batch"},
      {"input", ParamType::string, "torch-fidelity", "Inception input: torch-fidelity (the paper's numbers) | pytorch-fid"},
      {"jpeg", ParamType::boolean, true, "save fakes and reals as JPEG (quality jpeg_quality) before Inception, as the reference does (spec 12.19)"},
      {"jpeg_quality", ParamType::integer, 75, "PIL's default"},
      {"seed", ParamType::integer, 0, "latents, lights, the real subset and flips"},
      {"kid_subsets", ParamType::integer, 100, "KID subsets"},
      {"kid_subset_size", ParamType::integer, 1000, "KID subset size (clamped to the set sizes; metrics.json records both)"},
      {"is_splits", ParamType::integer, 10, "Inception Score splits"},
      {"shape_images", ParamType::integer, 16, "K held-out images inverted for shape accuracy"},
      {"shape_steps", ParamType::integer, 200, "M Adam steps per inversion"},
      {"shape_lr", ParamType::number, 0.02, "inversion learning rate"},
      {"shape_normals", ParamType::string, "trained", "normals shading the inversion's steps: trained (as the generator was trained) | density (per-sample, double backward) | depth (of the depth map) | every:K (density every K-th step, held between); datasets/README.md"},
      {"shape_img_size", ParamType::integer, 32, "resolution of the inversion and of the compared depth and normals"},
      {"learning_images", ParamType::integer, 128, "learning measure: m generated, m untrained and 2m held-out real images (halves A, B)"},
      {"silhouette_size", ParamType::integer, 16, "learning measure: silhouettes compared area-averaged to this many px"},
      {"untrained_seed", ParamType::integer, -1, "learning measure's 0%: the curriculum's generator initialised from this seed; -1: the checkpoint's training seed (0 for a bare generator.pth)"},
      {"light_prior", ParamType::path, "", "light prior of the fakes ({mean, cov} .pth or .toml); empty: the curriculum's mvn_path, else the synth set's"},
  };
}

// The seed training initialised the generator from: trainer.json beside the checkpoint's
// meta.json (train/checkpoint.cpp), 0 when there is none (an official generator.pth).
int64_t training_seed(const sg::train::LoadedGenerator& loaded) {
  const fs::path f = fs::path(loaded.source) / "trainer.json";
  if (loaded.step < 0 || !fs::exists(f)) return 0;
  const json t = sg::read_json(f.string());
  if (!t.contains("seed") || !t["seed"].is_number_integer())
    throw sg::FormatError(f.string() + ": no integer \"seed\" (written by every training checkpoint)");
  return t["seed"].get<int64_t>();
}

// The learning measure's 0%: the generator the trainer starts from, built the way it builds it
// (torch seeded, then train::build_models), so a run's untrained reference is its own step 0.
sg::model::Generator untrained_generator(const sg::config::Curriculum& c, int64_t seed) {
  torch::manual_seed(static_cast<uint64_t>(seed));
  sg::train::TrainState st;
  sg::train::build_models(st, c, sg::train::LrPolicy{}, /*with_ema=*/false, torch::Device(torch::kCPU));
  st.G->eval();
  for (auto& p : st.G->parameters()) p.set_requires_grad(false);
  return st.G;
}

// The input stage directory that holds `marker` (a file or directory name), or "".
std::string input_with(const std::map<std::string, std::string>& inputs, const std::string& marker) {
  for (const auto& [name, dir] : inputs)
    if (fs::exists(fs::path(dir) / marker)) return dir;
  return "";
}

// Every numeric parameter is checked before the checkpoint is read or an image generated: a
// bad is_splits or kid_subset_size used to surface only after all the fakes were made.
void check_eval_params(const json& p) {
  auto range = [&](const char* key, int64_t lo, int64_t hi, const std::string& why = "") {
    const int64_t v = p.at(key).get<int64_t>();
    if (v < lo || v > hi)
      throw sg::ConfigError(fmt::format("eval: {}: expected an integer in [{}, {}]{}, got {}", key, lo, hi, why, v));
  };
  auto positive = [&](const char* key, bool zero_ok) {
    const double v = p.at(key).get<double>();
    if (!std::isfinite(v) || v < 0 || (!zero_ok && v == 0))
      throw sg::ConfigError(fmt::format("eval: {}: expected a number {} 0, got {}", key, zero_ok ? ">=" : ">", v));
  };
  constexpr int64_t kMaxImages = 10000000;
  range("num_images", 2, kMaxImages);
  range("real_images", 2, kMaxImages);
  range("img_size", 4, 1024);
  range("num_steps", 2, 1024);
  range("batch_size", 1, 4096);
  range("jpeg_quality", 1, 100);
  range("seed", 0, INT64_MAX);
  range("kid_subsets", 1, 100000);
  range("kid_subset_size", 2, kMaxImages, " (clamped to the image counts)");
  range("is_splits", 1, kMaxImages);
  // The Inception Score splits the fakes: at most num_images splits, when IS is computed at all
  // (asked for, or "auto" with Inception weights found).
  const sg::metrics::MetricSelection sel = sg::metrics::parse_metric_selection(p.at("metrics").get<std::string>());
  bool is_computed = sel.is && !sel.automatic;
  if (sel.is && sel.automatic) {
    try {
      sg::metrics::resolve_inception_weights(p.at("inception_weights").get<std::string>());
      is_computed = true;
    } catch (const sg::ConfigError&) {
    }
  }
  if (is_computed) range("is_splits", 1, p.at("num_images").get<int64_t>(), " (at most num_images)");
  range("shape_images", 1, 100000);
  range("shape_steps", 1, 1000000);
  range("shape_img_size", 4, 1024);
  range("learning_images", 2, kMaxImages);
  range("silhouette_size", 1, 1024);
  range("untrained_seed", -1, INT64_MAX);
  positive("psi", true);
  positive("shape_lr", false);
  sg::metrics::inception_input_from_name(p.at("input").get<std::string>());
  sg::metrics::inversion_normals_from_name(p.at("shape_normals").get<std::string>());
  const std::string weights = p.at("weights").get<std::string>();
  if (weights != "ema" && weights != "ema2" && weights != "raw" && weights != "untrained")
    throw sg::ConfigError(sg::unknown_name_message("weights", weights, {"ema", "ema2", "raw", "untrained"}));
}

void run_eval(const json& p, const std::map<std::string, std::string>& inputs, const std::string& out_dir,
              int /*task: eval does not fan out*/) {
  check_eval_params(p);
  sg::mpi::init();
  sg::log::set_rank(sg::mpi::rank(), sg::mpi::size());
  sg::install_stop_handlers();
  const sg::ThreadChoice threads = sg::mpi::rank_threads(0);
  at::set_num_threads(threads.threads);
  sg::set_openblas_threads(threads.threads);

  std::string checkpoint = p.at("checkpoint").get<std::string>();
  if (checkpoint.empty()) {
    checkpoint = input_with(inputs, "LATEST");
    if (checkpoint.empty()) checkpoint = input_with(inputs, "ckpt");
    if (checkpoint.empty())
      throw sg::ConfigError("eval: give `checkpoint`, or run the stage after a train stage");
  }
  std::string shards = p.at("shards").get<std::string>();
  if (shards.empty()) shards = input_with(inputs, "manifest.json");
  if (shards.empty()) throw sg::ConfigError("eval: give `shards` (real images), or run the stage after a shard stage");
  std::string synth_dir = p.at("synth").get<std::string>();
  if (synth_dir.empty()) synth_dir = input_with(inputs, "synth.toml");
  std::optional<sg::data::SynthParams> synth;
  if (!synth_dir.empty()) synth = sg::data::read_synth_toml(synth_dir + "/synth.toml");

  const std::string cur_path = p.at("curriculum").get<std::string>();
  std::optional<sg::config::Curriculum> curriculum;
  if (!cur_path.empty()) curriculum = sg::config::load_curriculum(cur_path);
  // "untrained" evaluates the generator training starts from, in place of the checkpoint's
  // weights: the baseline row of a comparison (jobs/shape_compare.toml), measured by the same
  // protocol, on the same images, with the same render settings as the trained rows.
  const std::string weights = p.at("weights").get<std::string>();
  const bool untrained_row = weights == "untrained";  // (check_eval_params checked the name)
  sg::train::LoadedGenerator loaded = sg::train::load_generator(
      checkpoint, curriculum, sg::train::weights_choice_from_name(untrained_row ? "ema" : weights));
  int64_t untrained_seed = p.at("untrained_seed").get<int64_t>();
  if (untrained_seed < 0) untrained_seed = training_seed(loaded);
  if (untrained_row) {
    loaded.generator = untrained_generator(loaded.curriculum, untrained_seed);
    loaded.weights_file = "";
    loaded.source += fmt::format(" (untrained: its curriculum initialised from seed {})", untrained_seed);
  }

  sg::model::RenderOptions render = sg::train::inference_render_options(loaded.curriculum, std::max<int64_t>(0, loaded.step));
  render.img_size = p.at("img_size").get<int64_t>();
  render.psi = p.at("psi").get<double>();
  render.num_steps = p.at("num_steps").get<int64_t>();
  render.delta = p.at("delta").get<double>();
  render.nerf_noise = 0;

  // A shading generator's fakes are lit from the prior training used, found the same way.
  std::optional<sg::model::LightPrior> prior;
  std::string prior_path;
  if (loaded.curriculum.globals.shading)
    prior = sg::train::find_light_prior(loaded.curriculum.globals, p.at("light_prior").get<std::string>(), synth_dir,
                                        &prior_path);

  sg::metrics::EvalOptions o;
  o.metrics = sg::metrics::parse_metric_selection(p.at("metrics").get<std::string>());
  if (o.metrics.fid || o.metrics.kid || o.metrics.is) {
    try {
      o.inception_weights = sg::metrics::resolve_inception_weights(p.at("inception_weights").get<std::string>());
    } catch (const sg::ConfigError& e) {
      if (!o.metrics.automatic) throw;
      o.inception_missing = e.what();
    }
  }
  o.num_images = p.at("num_images").get<int64_t>();
  o.real_images = p.at("real_images").get<int64_t>();
  o.batch_size = std::max<int64_t>(1, p.at("batch_size").get<int64_t>());
  o.input = sg::metrics::inception_input_from_name(p.at("input").get<std::string>());
  o.jpeg = p.at("jpeg").get<bool>();
  o.jpeg_quality = static_cast<int>(p.at("jpeg_quality").get<int64_t>());
  o.seed = static_cast<uint64_t>(p.at("seed").get<int64_t>());
  o.kid.subsets = p.at("kid_subsets").get<int64_t>();
  o.kid.subset_size = p.at("kid_subset_size").get<int64_t>();
  o.kid.seed = 2020;
  o.is.splits = p.at("is_splits").get<int64_t>();
  o.shape_images = p.at("shape_images").get<int64_t>();
  o.shape_img_size = p.at("shape_img_size").get<int64_t>();
  o.inversion.steps = p.at("shape_steps").get<int64_t>();
  o.inversion.lr = p.at("shape_lr").get<double>();
  o.inversion.seed = o.seed;
  o.inversion.normals = sg::metrics::inversion_normals_from_name(p.at("shape_normals").get<std::string>());
  // Beside the shard stage, never inside another stage's directory (that would change the
  // outputs its done marker recorded): runs/<run>/cache/ for runs/<run>/shard.
  o.cache_dir = (fs::path(shards).lexically_normal().parent_path() / "cache").string();
  o.learning_images = p.at("learning_images").get<int64_t>();
  o.silhouette_size = p.at("silhouette_size").get<int64_t>();
  sg::model::Generator untrained{nullptr};
  if (o.metrics.learning) untrained = untrained_generator(loaded.curriculum, untrained_seed);

  sg::log::info("eval: {} (step {}), metrics '{}' on {} rank(s)", loaded.source, loaded.step,
                p.at("metrics").get<std::string>(), sg::mpi::size());
  sg::metrics::EvalResult r = sg::metrics::evaluate(*loaded.generator, render, prior ? &*prior : nullptr,
                                                    shards, synth, o, untrained ? untrained.get() : nullptr);
  if (sg::mpi::rank() != 0) return;
  r.settings["params"] = p;
  r.settings["shards"] = shards;
  r.settings["synth"] = synth_dir;
  r.settings["light_prior"] = prior_path;
  if (r.settings.contains("learning"))
    r.settings["learning"]["untrained"] = {{"curriculum", loaded.curriculum.name}, {"seed", untrained_seed},
                                           {"built", "torch::manual_seed(seed), then train::build_models, as training starts"}};
  json doc = {{"program", sg::program_json()},
              {"metrics", r.metrics},
              {"skipped", r.skipped},
              {"settings", r.settings},
              {"reference_points", r.reference_points},
              {"checkpoint",
               {{"source", loaded.source},
                {"step", loaded.step},
                {"weights", p.at("weights")},
                {"weights_file", loaded.weights_file},
                {"curriculum", loaded.curriculum.name}}}};
  sg::write_json_atomic(out_dir + "/metrics.json", doc);
  sg::log::event("eval_done", {{"metrics", r.metrics}, {"skipped", r.skipped}});
  for (const auto& [k, v] : r.metrics.items()) sg::log::info("  {} = {}", k, v.dump());
  for (const auto& [k, v] : r.skipped.items()) sg::log::info("  {} skipped: {}", k, v.get<std::string>());
}

const bool registered = [] {
  sg::app::KindCommand c;
  c.kind.name = "eval";
  // 2: the learning measure (metrics auto and all include it).
  c.kind.version = 2;
  c.kind.help = "FID / KID / IS against the real shards, shape accuracy by inversion and the learning measure, into eval/metrics.json";
  c.kind.params = eval_params();
  c.kind.mpi = true;
  c.kind.check = check_eval_params;
  c.command_help = "FID/KID/IS, shape accuracy and the learning measure of a trained generator (writes <out>/metrics.json)";
  c.out_help = "Output directory (metrics.json)";
  c.work = run_eval;
  return sg::app::register_kind_command(std::move(c));
}();

}  // namespace
