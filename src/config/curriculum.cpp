#include "config/curriculum.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "config/toml_util.h"
#include "core/error.h"
#include "core/text.h"

namespace sg::config {

const std::vector<std::string> kDatasets = {"CelebA", "Cats", "Synface", "Synthetic"};
// spec §4.1; every other name means "fixed" in the reference, which we spell out instead.
const std::vector<std::string> kSampleDists = {"gaussian", "normal", "uniform", "hybrid",
                                               "truncated_gaussian", "spherical_uniform", "fixed"};
const std::vector<std::string> kDiscriminators = {"ProgressiveEncoderDiscriminator",
                                                  "StridedDiscriminator"};
const std::vector<std::string> kClampModes = {"relu", "softplus"};
const std::vector<std::string> kZDists = {"gaussian", "uniform"};
const std::vector<std::string> kFillModes = {"none", "debug", "weight"};
const std::vector<std::string> kDepthLosses = {"l1+lpips", "l1"};
const std::vector<std::string> kShadingNormals = {"density", "depth"};
const std::vector<std::string> kModels = {"SPATIALSIRENBASELINE"};
const std::vector<std::string> kGenerators = {"ImplicitGenerator3d"};

// The file's text plus the overrides applied so far. Overrides are re-applied to a fresh parse
// because toml++ drops source positions when a table is copied, and every error must keep its
// file:line.
struct CurriculumSource {
  std::string text;
  std::vector<std::pair<std::string, std::string>> overrides;
};

namespace {

const std::vector<std::string> kStageKeys = {"batch_size", "num_steps",  "img_size",
                                             "batch_split", "gen_lr", "disc_lr"};
const std::vector<std::string> kSurfKeys = {"start_step",    "beta",         "delta_max",
                                            "delta_min",     "num_steps_max", "num_steps_min"};
const std::vector<std::string> kGlobalKeys = {
    // §1.3
    "dataset_path", "dataset", "fov", "ray_start", "ray_end", "fade_steps", "h_stddev", "v_stddev",
    "h_mean", "v_mean", "sample_dist", "topk_interval", "topk_v", "betas", "unique_lr",
    "weight_decay", "r1_lambda", "latent_dim", "grad_clip", "model", "generator", "discriminator",
    "clamp_mode", "z_dist", "hierarchical_sample", "z_lambda", "pos_lambda", "last_back",
    "eval_last_back", "shading", "view_condition", "light_condition", "surf_track", "start_step",
    "beta", "delta_max", "delta_min", "num_steps_max", "num_steps_min", "neural_light", "delta",
    // read with defaults
    "white_back", "fill_mode", "disable_scaler", "mvn_path", "h_stddev_eval", "v_stddev_eval",
    "sample_dist_eval", "psi", "lock_view_dependence", "max_batch_size", "instance_noise",
    "l_ratio", "rt_normal",
    // ours
    "siren_hidden_dim", "mapping_hidden_dim", "surf_nf", "surf_size", "nerf_noise_steps",
    "l_ratio_start", "l_ratio_steps", "depth_loss", "disc_channels", "disc_minibatch_std", "density_gain",
    "density_bias", "siren_frequency_scale", "shading_normals"};

std::string num(double v) { return fmt::format("{}", v); }
std::string num(int64_t v) { return std::to_string(v); }

bool power_of_two(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

// Reads typed keys of one table; `prefix` makes the dotted name used in messages
// ("stages.30000.") and `anchor` is the table's own node, named when a key is missing.
struct Reader {
  const std::string& file;
  const toml::table& table;
  std::string prefix;
  const toml::node* anchor;

  std::string path(const std::string& key) const { return prefix + key; }

  [[noreturn]] void missing(const std::string& key, const std::string& expected) const {
    const std::string loc = anchor ? where(file, *anchor) : file;
    throw ConfigError(loc + ": " + path(key) + ": missing (expected " + expected + ")");
  }
  [[noreturn]] void bad(const std::string& key, const std::string& expected,
                        const std::string& got) const {
    fail_at(file, *table.get(key), path(key), "expected " + expected + ", got " + got);
  }

  // Required when `def` is empty; `ok` checks the range, `expected` says what is allowed.
  int64_t integer(const std::string& key, std::optional<int64_t> def,
                  const std::function<bool(int64_t)>& ok, const std::string& expected) const {
    auto v = get_int(file, table, key, path(key));
    if (!v) {
      if (!def) missing(key, expected);
      return *def;
    }
    if (!ok(*v)) bad(key, expected, num(*v));
    return *v;
  }
  double number(const std::string& key, std::optional<double> def,
                const std::function<bool(double)>& ok, const std::string& expected) const {
    auto v = get_double(file, table, key, path(key));
    if (!v) {
      if (!def) missing(key, expected);
      return *def;
    }
    if (!std::isfinite(*v) || !ok(*v)) bad(key, expected, num(*v));
    return *v;
  }
  bool boolean(const std::string& key, std::optional<bool> def) const {
    auto v = get_bool(file, table, key, path(key));
    if (!v) {
      if (!def) missing(key, "true or false");
      return *def;
    }
    return *v;
  }
  std::string string(const std::string& key, std::optional<std::string> def,
                     const std::string& expected = "a string") const {
    auto v = get_string(file, table, key, path(key));
    if (!v) {
      if (!def) missing(key, expected);
      return *def;
    }
    return *v;
  }
  // A string that must be one of `valid` (one message listing them all).
  std::string choice(const std::string& key, std::optional<std::string> def,
                     const std::vector<std::string>& valid) const {
    auto v = get_string(file, table, key, path(key));
    if (!v) {
      if (!def) missing(key, "one of " + join(valid, ", "));
      return *def;
    }
    if (std::find(valid.begin(), valid.end(), *v) == valid.end())
      fail_at(file, *table.get(key), path(key), unknown_name_message(key, *v, valid));
    return *v;
  }
};

const auto any_num = [](double) { return true; };
const auto at_least = [](int64_t lo) { return [lo](int64_t v) { return v >= lo; }; };
// Sizes that become allocations get an upper bound far above any curriculum's (the reference's
// widths are 256, its images at most 128 px in training), so a typo such as
// siren_hidden_dim = 100000000000 is a config error naming the key and the range rather than
// an allocation failure deep in LibTorch.
const auto in_range = [](int64_t lo, int64_t hi) { return [lo, hi](int64_t v) { return v >= lo && v <= hi; }; };
constexpr int64_t kMaxWidth = 4096, kMaxImage = 1024, kMaxSteps = 1024, kMaxBatch = 4096, kMaxPoints = 16777216;
const auto non_negative = [](double v) { return v >= 0; };
const auto positive = [](double v) { return v > 0; };
const auto unit_interval = [](double v) { return v >= 0 && v <= 1; };

// "0", "30000": a decimal step without sign or leading zeros.
std::optional<int64_t> parse_step(const std::string& s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  if (s.size() > 1 && s[0] == '0') return std::nullopt;
  for (char c : s)
    if (c < '0' || c > '9') return std::nullopt;
  return std::stoll(s);
}

Stage read_stage(const std::string& file, const toml::table& t, const toml::node& node,
                 int64_t start) {
  const std::string prefix = "stages." + std::to_string(start) + ".";
  check_keys(file, t, kStageKeys, "stages." + std::to_string(start));
  const Reader r{file, t, prefix, &node};
  for (const auto& k : kStageKeys)
    if (!t.get(k))
      throw ConfigError(where(file, node) + ": " + prefix + k +
                        ": missing; every stage but the final empty one needs batch_size, "
                        "num_steps, img_size, batch_split, gen_lr and disc_lr");
  Stage s;
  s.start = start;
  s.batch_size = r.integer("batch_size", std::nullopt, in_range(1, kMaxBatch), "an integer in [1, 4096]");
  s.num_steps = r.integer("num_steps", std::nullopt, in_range(2, kMaxSteps), "an integer in [2, 1024] (samples per ray)");
  s.img_size = r.integer("img_size", std::nullopt,
                         [](int64_t v) { return v >= 4 && v <= kMaxImage && power_of_two(v); },
                         "a power of two in [4, 1024]");
  s.batch_split = r.integer("batch_split", std::nullopt, at_least(1), "an integer >= 1");
  s.gen_lr = r.number("gen_lr", std::nullopt, non_negative, "a learning rate >= 0");
  s.disc_lr = r.number("disc_lr", std::nullopt, non_negative, "a learning rate >= 0");
  if (s.batch_size % s.batch_split != 0)
    r.bad("batch_split", "a divisor of batch_size " + num(s.batch_size) +
          " (the batch is cut into batch_split equal chunks)", num(s.batch_split));
  return s;
}

Globals read_globals(const std::string& file, const toml::table& t) {
  const Reader r{file, t, "", nullptr};
  Globals g;
  g.dataset = r.choice("dataset", std::nullopt, kDatasets);
  g.dataset_path = r.string("dataset_path", std::string());
  g.fov = r.number("fov", std::nullopt, [](double v) { return v > 0 && v < 180; },
                   "a field of view in degrees in (0, 180)");
  g.ray_start = r.number("ray_start", std::nullopt, non_negative, "a distance >= 0");
  const double rs = g.ray_start;
  g.ray_end = r.number("ray_end", std::nullopt, [rs](double v) { return v > rs; },
                       "a distance > ray_start (" + num(rs) + ")");
  g.fade_steps = r.integer("fade_steps", std::nullopt, at_least(1), "a step count >= 1");
  g.h_stddev = r.number("h_stddev", std::nullopt, non_negative, "a spread in radians >= 0");
  g.v_stddev = r.number("v_stddev", std::nullopt, non_negative, "a spread in radians >= 0");
  g.h_mean = r.number("h_mean", std::nullopt, any_num, "an angle in radians");
  g.v_mean = r.number("v_mean", std::nullopt, any_num, "an angle in radians");
  g.sample_dist = r.choice("sample_dist", std::nullopt, kSampleDists);
  g.topk_interval = r.integer("topk_interval", std::nullopt, at_least(1), "a step count >= 1");
  g.topk_v = r.number("topk_v", std::nullopt, unit_interval, "a fraction in [0, 1]");

  // betas: a pair of numbers, each in [0, 1).
  const toml::node* b = t.get("betas");
  if (!b) r.missing("betas", "a pair of Adam betas such as [0, 0.9]");
  const toml::array* arr = b->as_array();
  const std::string betas_expected = "a pair of Adam betas in [0, 1) such as [0, 0.9]";
  if (!arr || arr->size() != 2) fail_at(file, *b, "betas", "expected " + betas_expected);
  double bv[2];
  for (size_t i = 0; i < 2; ++i) {
    const toml::node& e = *arr->get(i);
    std::optional<double> v = e.value_exact<double>();
    if (!v)
      if (auto iv = e.value_exact<int64_t>()) v = static_cast<double>(*iv);
    if (!v || !(*v >= 0 && *v < 1))
      fail_at(file, *b, "betas", "expected " + betas_expected);
    bv[i] = *v;
  }
  g.betas = {bv[0], bv[1]};

  g.unique_lr = r.boolean("unique_lr", std::nullopt);
  g.weight_decay = r.number("weight_decay", std::nullopt, non_negative, "a weight decay >= 0");
  g.r1_lambda = r.number("r1_lambda", std::nullopt, non_negative, "a weight >= 0");
  g.latent_dim = r.integer("latent_dim", std::nullopt, in_range(1, kMaxWidth), "an integer in [1, 4096]");
  g.grad_clip = r.number("grad_clip", std::nullopt, positive, "a gradient norm > 0");
  g.model = r.choice("model", std::nullopt, kModels);
  g.generator = r.choice("generator", std::nullopt, kGenerators);
  g.discriminator = r.choice("discriminator", std::nullopt, kDiscriminators);
  g.clamp_mode = r.choice("clamp_mode", std::nullopt, kClampModes);
  g.z_dist = r.choice("z_dist", std::nullopt, kZDists);
  g.hierarchical_sample = r.boolean("hierarchical_sample", std::nullopt);
  g.z_lambda = r.number("z_lambda", std::nullopt, non_negative, "a weight >= 0");
  g.pos_lambda = r.number("pos_lambda", std::nullopt, non_negative, "a weight >= 0");
  g.last_back = r.boolean("last_back", std::nullopt);
  g.shading = r.boolean("shading", std::nullopt);
  g.view_condition = r.boolean("view_condition", std::nullopt);
  g.light_condition = r.boolean("light_condition", std::nullopt);
  g.surf_track = r.boolean("surf_track", std::nullopt);

  // The rendering scheduler: all six keys or none; required with surf_track.
  std::vector<std::string> present, absent;
  for (const auto& k : kSurfKeys) (t.get(k) ? present : absent).push_back(k);
  if (!present.empty() || g.surf_track) {
    if (!absent.empty()) {
      const std::string why = g.surf_track ? "surf_track = true needs the rendering scheduler keys "
                                           : "the rendering scheduler keys go together: ";
      throw ConfigError(file + ": " + absent.front() + ": missing; " + why + join(kSurfKeys, ", "));
    }
    SurfTrackSchedule s;
    s.start_step = r.integer("start_step", std::nullopt, at_least(0), "a step >= 0");
    s.beta = r.number("beta", std::nullopt, non_negative, "a decay rate >= 0");
    s.delta_min = r.number("delta_min", std::nullopt, positive, "an interval width > 0");
    const double range = g.ray_end - g.ray_start;
    const double dmin = s.delta_min;
    s.delta_max = r.number(
        "delta_max", std::nullopt,
        [=](double v) { return v >= dmin && v <= range + 1e-9; },
        "an interval width in [delta_min, ray_end - ray_start] = [" + num(dmin) + ", " +
            num(range) + "]");
    s.num_steps_min = r.integer("num_steps_min", std::nullopt, in_range(2, kMaxSteps),
                                "an integer in [2, 1024] (samples per ray)");
    const int64_t nmin = s.num_steps_min;
    s.num_steps_max = r.integer("num_steps_max", std::nullopt, in_range(nmin, kMaxSteps),
                                "an integer in [num_steps_min, 1024] = [" + num(nmin) + ", 1024]");
    g.surf_schedule = s;
  }

  if (t.get("eval_last_back")) g.eval_last_back = r.boolean("eval_last_back", std::nullopt);
  if (t.get("neural_light")) g.neural_light = r.boolean("neural_light", std::nullopt);
  if (t.get("delta")) g.delta = r.number("delta", std::nullopt, any_num, "a number");

  g.white_back = r.boolean("white_back", false);
  g.fill_mode = r.choice("fill_mode", std::string("none"), kFillModes);
  g.disable_scaler = r.boolean("disable_scaler", false);
  std::string prior;
  if (g.dataset == "CelebA") prior = "weights/light_mvn/celeba_light_mvn.pth";
  if (g.dataset == "Cats") prior = "weights/light_mvn/cat_light_mvn.pth";
  if (g.dataset == "Synface") prior = "weights/light_mvn/synface_light_mvn.pth";
  g.mvn_path = r.string("mvn_path", prior, "a path to a light prior file");
  g.h_stddev_eval = r.number("h_stddev_eval", g.h_stddev, non_negative, "a spread in radians >= 0");
  g.v_stddev_eval = r.number("v_stddev_eval", g.v_stddev, non_negative, "a spread in radians >= 0");
  g.sample_dist_eval = r.choice("sample_dist_eval", g.sample_dist, kSampleDists);
  g.psi = r.number("psi", 0.8, non_negative, "a truncation >= 0");
  g.lock_view_dependence = r.boolean("lock_view_dependence", false);
  g.max_batch_size = r.integer("max_batch_size", 50000, in_range(1, kMaxPoints), "a point count in [1, 16777216]");
  g.instance_noise = r.number("instance_noise", 0.0, non_negative, "a noise level >= 0");
  g.l_ratio = r.number("l_ratio", 1.0, unit_interval, "a fraction in [0, 1]");
  g.rt_normal = r.boolean("rt_normal", false);

  g.siren_hidden_dim = r.integer("siren_hidden_dim", 256, in_range(1, kMaxWidth), "a width in [1, 4096]");
  g.mapping_hidden_dim = r.integer("mapping_hidden_dim", 256, in_range(1, kMaxWidth), "a width in [1, 4096]");
  g.surf_nf = r.integer("surf_nf", 16, [](int64_t v) { return v >= 8 && v <= 1024 && v % 8 == 0; },
                        "a multiple of 8 in [8, 1024] (its GroupNorms use channels/8 groups)");
  g.surf_size = r.integer("surf_size", 128, [](int64_t v) { return v >= 64 && v <= kMaxImage && power_of_two(v); },
                          "a power of two in [64, 1024]");
  g.nerf_noise_steps = r.integer("nerf_noise_steps", 5000, at_least(1), "a step count >= 1");
  g.l_ratio_start = r.integer("l_ratio_start", 5000, at_least(0), "a step >= 0");
  g.l_ratio_steps = r.integer("l_ratio_steps", 2000, at_least(1), "a step count >= 1");
  g.depth_loss = r.choice("depth_loss", std::string("l1+lpips"), kDepthLosses);
  // Ours, not the reference's constants: off (the reference's behaviour) unless given.
  g.disc_channels = r.integer("disc_channels", 0, in_range(0, kMaxWidth),
                              "a channel cap in [1, 4096] for the discriminator's widths, or 0 for the reference's");
  g.disc_minibatch_std = r.integer("disc_minibatch_std", 0, in_range(0, 64),
                                   "a group size in [1, 64] for the discriminator's minibatch standard deviation, "
                                   "or 0 for the reference's head");
  g.density_gain = r.number("density_gain", 1.0, positive, "a gain > 0 on the SIREN's raw density");
  g.siren_frequency_scale = r.number("siren_frequency_scale", 1.0, positive,
                                     "a scale > 0 on the SIREN's FiLM frequencies");
  if (t.get("density_bias"))
    g.density_bias = r.number("density_bias", std::nullopt, any_num, "the density head's initial bias");
  g.shading_normals = r.choice("shading_normals", std::string("density"), kShadingNormals);
  return g;
}

Curriculum from_table(const std::string& file, const std::string& name, const toml::table& t) {
  // A stage key at the top level would be a global in the reference and silently override every
  // stage; say where it belongs instead.
  for (const auto& k : kStageKeys)
    if (const toml::node* n = t.get(k))
      fail_at(file, *n, k, "a stage key; it belongs in a [stages.<step>] table");
  std::vector<std::string> top = kGlobalKeys;
  top.push_back("stages");
  check_keys(file, t, top, "");

  Curriculum c;
  c.file = file;
  c.name = name;

  const toml::node* sn = t.get("stages");
  if (!sn)
    throw ConfigError(file + ": stages: missing (expected [stages.0] ... tables and an empty "
                      "final [stages.<end>] that marks the end of training)");
  const toml::table* stages = sn->as_table();
  if (!stages)
    fail_at(file, *sn, "stages", "expected tables [stages.<step>] such as [stages.0]");

  struct Entry {
    int64_t start;
    const toml::table* table;
    const toml::node* node;
    std::string key;
  };
  std::vector<Entry> entries;
  for (const auto& [k, node] : *stages) {
    const std::string key(k.str());
    const auto step = parse_step(key);
    if (!step)
      fail_at(file, node, "stages." + key,
              "expected a stage key that is a non-negative integer step such as 30000 "
              "(no sign, no leading zeros, no separators)");
    const toml::table* st = node.as_table();
    if (!st) fail_at(file, node, "stages." + key, "expected a table [stages." + key + "]");
    entries.push_back({*step, st, &node, key});
  }

  // Stages must be written in increasing order: a file that lists 70000 before 30000 is almost
  // certainly a typo, even though the numbers alone would sort it out.
  std::vector<std::pair<int64_t, const Entry*>> in_file;
  for (const auto& e : entries) {
    const auto& src = e.node->source();
    if (src.begin && src.path && *src.path == file) in_file.push_back({src.begin.line, &e});
  }
  std::sort(in_file.begin(), in_file.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 1; i < in_file.size(); ++i) {
    const Entry& prev = *in_file[i - 1].second;
    const Entry& cur = *in_file[i].second;
    if (cur.start <= prev.start)
      fail_at(file, *cur.node, "stages." + cur.key,
              "expected stages in increasing step order: " + cur.key + " comes after " + prev.key +
                  " (line " + std::to_string(in_file[i - 1].first) + ")");
  }

  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.start < b.start; });
  if (entries.empty())
    fail_at(file, *sn, "stages",
            "expected [stages.0] ... tables and an empty final stage that marks the end");
  const Entry& last = entries.back();
  if (!last.table->empty())
    fail_at(file, *last.node, "stages." + last.key,
            "expected the final stage to be empty: it marks the end of training (add an empty "
            "[stages.<end step>] after it)");
  if (entries.size() < 2)
    fail_at(file, *last.node, "stages." + last.key,
            "expected at least one training stage before the empty final stage");
  if (entries.front().start != 0)
    fail_at(file, *entries.front().node, "stages." + entries.front().key,
            "expected the first stage to start at step 0");
  for (size_t i = 0; i + 1 < entries.size(); ++i) {
    const Entry& e = entries[i];
    if (e.table->empty())
      fail_at(file, *e.node, "stages." + e.key,
              "expected batch_size, num_steps, img_size, batch_split, gen_lr and disc_lr: only "
              "the final stage may be empty (it marks the end of training)");
    c.stages.push_back(read_stage(file, *e.table, *e.node, e.start));
  }
  c.end_step = last.start;
  c.globals = read_globals(file, t);
  return c;
}

std::vector<std::string> split_dots(const std::string& s) {
  std::vector<std::string> parts;
  std::string cur;
  for (char ch : s) {
    if (ch == '.') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  parts.push_back(cur);
  return parts;
}

// Put the value of `--set key=value` into `t`, keeping the value's own source ("--set key") so
// that an error in it names the override, not a line of the file.
void set_override(const std::string& file, toml::table& t, const std::string& key,
                  const std::string& value) {
  const auto parts = split_dots(key);
  for (const auto& p : parts)
    if (p.empty())
      throw ConfigError("--set " + key + ": expected a key such as fov or stages.30000.batch_size");
  toml::table* target = &t;
  std::string leaf = parts[0];
  if (parts[0] == "stages") {
    if (parts.size() < 2 || parts.size() > 3)
      throw ConfigError("--set " + key +
                        ": expected a stage key such as stages.30000.batch_size");
    toml::table* stages = nullptr;
    if (toml::node* n = t.get("stages")) stages = n->as_table();
    if (!stages)
      throw ConfigError("--set " + key + ": " + file + " has no [stages.<step>] tables");
    if (parts.size() == 2) {
      leaf = parts[1];
      target = stages;
    } else {
      toml::node* sn = stages->get(parts[1]);
      if (!sn) {
        stages->insert(parts[1], toml::table{});
        sn = stages->get(parts[1]);
      }
      target = sn->as_table();
      if (!target) throw ConfigError("--set " + key + ": stages." + parts[1] + " is not a table");
      leaf = parts[2];
    }
  } else if (parts.size() != 1) {
    throw ConfigError("--set " + key + ": " +
                      unknown_name_message("key", key, kGlobalKeys) +
                      " (stage keys are written stages.<step>.<key>)");
  }
  toml::table parsed = parse_override_value(key, value);
  toml::node* v = parsed.get("v");
  v->visit([&](auto&& concrete) { target->insert_or_assign(leaf, std::move(concrete)); });
}

Curriculum build(const std::string& file, const std::string& name,
                 std::shared_ptr<const CurriculumSource> src) {
  toml::table t = parse_toml_string(src->text, file);
  for (const auto& [k, v] : src->overrides) set_override(file, t, k, v);
  Curriculum c = from_table(file, name, t);
  c.source = std::move(src);
  return c;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot read curriculum '" + path + "': no such file or unreadable");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::json stage_json(const Stage& s) {
  return {{"start", s.start},         {"batch_size", s.batch_size}, {"num_steps", s.num_steps},
          {"img_size", s.img_size},   {"batch_split", s.batch_split}, {"gen_lr", s.gen_lr},
          {"disc_lr", s.disc_lr}};
}

nlohmann::json globals_json(const Globals& g) {
  nlohmann::json j = {
      {"dataset", g.dataset},
      {"dataset_path", g.dataset_path},
      {"fov", g.fov},
      {"ray_start", g.ray_start},
      {"ray_end", g.ray_end},
      {"fade_steps", g.fade_steps},
      {"h_stddev", g.h_stddev},
      {"v_stddev", g.v_stddev},
      {"h_mean", g.h_mean},
      {"v_mean", g.v_mean},
      {"sample_dist", g.sample_dist},
      {"topk_interval", g.topk_interval},
      {"topk_v", g.topk_v},
      {"betas", {g.betas.first, g.betas.second}},
      {"unique_lr", g.unique_lr},
      {"weight_decay", g.weight_decay},
      {"r1_lambda", g.r1_lambda},
      {"latent_dim", g.latent_dim},
      {"grad_clip", g.grad_clip},
      {"model", g.model},
      {"generator", g.generator},
      {"discriminator", g.discriminator},
      {"clamp_mode", g.clamp_mode},
      {"z_dist", g.z_dist},
      {"hierarchical_sample", g.hierarchical_sample},
      {"z_lambda", g.z_lambda},
      {"pos_lambda", g.pos_lambda},
      {"last_back", g.last_back},
      {"shading", g.shading},
      {"view_condition", g.view_condition},
      {"light_condition", g.light_condition},
      {"surf_track", g.surf_track},
      {"white_back", g.white_back},
      {"fill_mode", g.fill_mode},
      {"disable_scaler", g.disable_scaler},
      {"mvn_path", g.mvn_path},
      {"h_stddev_eval", g.h_stddev_eval},
      {"v_stddev_eval", g.v_stddev_eval},
      {"sample_dist_eval", g.sample_dist_eval},
      {"psi", g.psi},
      {"lock_view_dependence", g.lock_view_dependence},
      {"max_batch_size", g.max_batch_size},
      {"instance_noise", g.instance_noise},
      {"l_ratio", g.l_ratio},
      {"rt_normal", g.rt_normal},
      {"siren_hidden_dim", g.siren_hidden_dim},
      {"mapping_hidden_dim", g.mapping_hidden_dim},
      {"surf_nf", g.surf_nf},
      {"surf_size", g.surf_size},
      {"nerf_noise_steps", g.nerf_noise_steps},
      {"l_ratio_start", g.l_ratio_start},
      {"l_ratio_steps", g.l_ratio_steps},
      {"depth_loss", g.depth_loss},
  };
  if (g.surf_schedule) {
    const auto& s = *g.surf_schedule;
    j["start_step"] = s.start_step;
    j["beta"] = s.beta;
    j["delta_max"] = s.delta_max;
    j["delta_min"] = s.delta_min;
    j["num_steps_max"] = s.num_steps_max;
    j["num_steps_min"] = s.num_steps_min;
  }
  if (g.eval_last_back) j["eval_last_back"] = *g.eval_last_back;
  if (g.neural_light) j["neural_light"] = *g.neural_light;
  if (g.delta) j["delta"] = *g.delta;
  // Our learning keys appear only when set off their default, so the canonical JSON (and every
  // fingerprint) of a curriculum without them is what it was before they existed.
  if (g.disc_channels != 0) j["disc_channels"] = g.disc_channels;
  if (g.disc_minibatch_std != 0) j["disc_minibatch_std"] = g.disc_minibatch_std;
  if (g.density_gain != 1) j["density_gain"] = g.density_gain;
  if (g.density_bias) j["density_bias"] = *g.density_bias;
  if (g.siren_frequency_scale != 1) j["siren_frequency_scale"] = g.siren_frequency_scale;
  if (g.shading_normals != "density") j["shading_normals"] = g.shading_normals;
  return j;
}

}  // namespace

Resolved Curriculum::at(int64_t step) const {
  if (step < 0) throw ConfigError("step " + std::to_string(step) + ": expected a step >= 0");
  Resolved r;
  r.step = step;
  r.globals = globals;
  if (step >= end_step) {
    r.done = true;
    r.stage.start = end_step;
    r.last_upsample_step = end_step;
    return r;
  }
  // The largest start <= step; stages[0].start == 0, so one always matches.
  for (const Stage& s : stages)
    if (s.start <= step) r.stage = s;
  const int64_t size = r.stage.img_size;
  for (const Stage& s : stages) {
    if (s.start <= step && s.img_size == size) {
      r.last_upsample_step = s.start;
      break;
    }
  }
  for (const Stage& s : stages) {
    if (s.start > step && s.img_size > size) {
      r.next_upsample_step = s.start;
      break;
    }
  }
  // The empty final stage has no img_size; the reference reads it as 512.
  if (!r.next_upsample_step && 512 > size) r.next_upsample_step = end_step;
  return r;
}

nlohmann::json Resolved::to_json() const {
  nlohmann::json j;
  j["step"] = step;
  j["done"] = done;
  j["stage"] = stage_json(stage);
  j["last_upsample_step"] = last_upsample_step;
  j["next_upsample_step"] =
      next_upsample_step ? nlohmann::json(*next_upsample_step) : nlohmann::json(nullptr);
  j["globals"] = globals_json(globals);
  return j;
}

nlohmann::json Curriculum::to_json() const {
  nlohmann::json j;
  j["stages"] = nlohmann::json::array();
  for (const Stage& s : stages) j["stages"].push_back(stage_json(s));
  j["end_step"] = end_step;
  j["globals"] = globals_json(globals);
  return j;
}

void Curriculum::apply_override(const std::string& key, const std::string& value) {
  if (!source) throw std::logic_error("apply_override on a curriculum not read by load_curriculum");
  auto src = std::make_shared<CurriculumSource>(*source);
  src->overrides.emplace_back(key, value);
  *this = build(file, name, std::move(src));  // throws before assigning: *this stays intact
}

Curriculum parse_curriculum(const std::string& text, const std::string& name) {
  auto src = std::make_shared<CurriculumSource>();
  src->text = text;
  return build(name, name, std::move(src));
}

nlohmann::json Curriculum::source_json() const {
  if (!source) throw std::logic_error("source_json on a curriculum without a source");
  nlohmann::json overrides = nlohmann::json::array();
  for (const auto& [k, v] : source->overrides) overrides.push_back({k, v});
  return {{"name", name}, {"file", file}, {"text", source->text}, {"overrides", overrides}};
}

Curriculum curriculum_from_source(const nlohmann::json& j, const std::string& where) {
  auto src = std::make_shared<CurriculumSource>();
  try {
    src->text = j.at("text").get<std::string>();
    for (const auto& o : j.at("overrides"))
      src->overrides.emplace_back(o.at(0).get<std::string>(), o.at(1).get<std::string>());
    return build(j.at("file").get<std::string>(), j.at("name").get<std::string>(), std::move(src));
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(where + ": curriculum: expected {name, file, text, overrides} (" + e.what() + ")");
  }
}

Curriculum load_curriculum(const std::string& path) {
  auto src = std::make_shared<CurriculumSource>();
  src->text = read_text(path);
  return build(path, std::filesystem::path(path).stem().string(), std::move(src));
}

}  // namespace sg::config
