#pragma once
// A training curriculum (spec §1): stages keyed by the step they start at, plus global keys
// that hold for the whole run. Read from configs/<name>.toml (format: configs/README.md),
// typed and validated here once, so training, data and rendering code never look a key up by
// string and never meet a value the reference would have choked on.
//
// Resolution follows the reference's extract_metadata exactly: at step s the stage with the
// largest start <= s is copied (stages do NOT inherit from earlier ones) and every global key is
// copied on top. The last stage of a file is empty and marks the end of training: at or past it
// the resolved parameters say `done` (the reference stops by crashing on the missing batch_size).
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sg::config {

// One stage: the six entries every non-final stage must have (spec §1.1).
struct Stage {
  int64_t start = 0;        // the step this stage begins at (its key in the file)
  int64_t batch_size = 0;   // per rank (the reference: per GPU)
  int64_t num_steps = 0;    // coarse samples per ray (replaced by the rendering scheduler when surf_track)
  int64_t img_size = 0;     // generated image side, a power of two in [4, 1024]
  int64_t batch_split = 0;  // gradient-accumulation chunks; divides batch_size
  double gen_lr = 0;
  double disc_lr = 0;
};

// The rendering scheduler of the surface-tracking curricula (spec §3.3). In the file these are
// six flat global keys; they are required when surf_track = true and may be absent otherwise.
struct SurfTrackSchedule {
  int64_t start_step = 0;     // tracking is used after this step
  double beta = 0;            // decay rate of the interval and sample count
  double delta_max = 0;       // interval width range along the ray
  double delta_min = 0;
  int64_t num_steps_max = 0;  // sample count range
  int64_t num_steps_min = 0;
};

// Global keys (spec §1.3), then the keys the reference reads with a default, then our
// extensions (marked "ours": reference constants made configurable, defaulting to the
// reference value, so a tiny demo can shrink them).
struct Globals {
  // --- §1.3, present in every reference curriculum (required) ---
  std::string dataset;          // CelebA | Cats | Synface | Synthetic (the built-in set, ours)
  double fov = 0;               // degrees, vertical = horizontal, in (0, 180)
  double ray_start = 0;         // near / far distance along the unit ray, 0 <= start < end
  double ray_end = 0;
  int64_t fade_steps = 0;       // discriminator fade-in length, >= 1
  double h_stddev = 0;          // yaw / pitch spread (radians), >= 0
  double v_stddev = 0;
  double h_mean = 0;            // yaw / pitch mean (radians)
  double v_mean = 0;
  std::string sample_dist;      // camera distribution (spec §4.1), see kSampleDists
  int64_t topk_interval = 0;    // top-k schedule: max(0.99^(s/topk_interval), topk_v)
  double topk_v = 0;            // in [0, 1]
  std::pair<double, double> betas{0, 0};  // Adam betas, each in [0, 1)
  bool unique_lr = false;       // separate LR groups (with the reference's bug, spec §6.4)
  double weight_decay = 0;      // >= 0
  double r1_lambda = 0;         // >= 0
  int64_t latent_dim = 0;       // z size, >= 1
  double grad_clip = 0;         // max gradient norm, > 0
  std::string model;            // SPATIALSIRENBASELINE
  std::string generator;        // ImplicitGenerator3d
  std::string discriminator;    // ProgressiveEncoderDiscriminator | StridedDiscriminator
  std::string clamp_mode;       // relu | softplus
  std::string z_dist;           // gaussian | uniform
  bool hierarchical_sample = false;
  double z_lambda = 0;          // latent-reconstruction loss weight, >= 0
  double pos_lambda = 0;        // pose-reconstruction loss weight, >= 0
  bool last_back = false;
  bool shading = false;
  bool view_condition = false;
  bool light_condition = false;
  bool surf_track = false;
  std::optional<SurfTrackSchedule> surf_schedule;  // start_step, beta, delta_*, num_steps_*

  // --- §1.3, optional (dataset_path is a glob the reference loads from; our pipelines feed
  //     shards instead, so it may be absent; the other three are unused by the reference) ---
  std::string dataset_path;              // "" when absent
  std::optional<bool> eval_last_back;    // unused
  std::optional<bool> neural_light;      // unused
  std::optional<double> delta;           // overwritten by the trainer every step

  // --- read by the reference with a default (spec §1.3, last paragraph) ---
  bool white_back = false;
  std::string fill_mode = "none";        // none | debug | weight (visualisation only)
  bool disable_scaler = false;
  // Light prior file ({mean, cov} .pth, or TOML). Default by dataset:
  // weights/light_mvn/{celeba|cat|synface}_light_mvn.pth; "" for Synthetic, meaning the prior
  // written beside the generated set.
  std::string mvn_path;
  double h_stddev_eval = 0;              // default: h_stddev
  double v_stddev_eval = 0;              // default: v_stddev
  std::string sample_dist_eval;          // default: sample_dist
  double psi = 0.8;                      // truncation for staged_forward, >= 0
  bool lock_view_dependence = false;
  int64_t max_batch_size = 50000;        // points per SIREN chunk at inference, >= 1
  double instance_noise = 0;             // >= 0
  double l_ratio = 1;                    // in [0, 1]; the trainer overwrites it every step
  bool rt_normal = false;

  // --- ours: reference constants, configurable (defaults = the reference's values) ---
  int64_t siren_hidden_dim = 256;     // FiLM-SIREN width (spec §2.2)
  int64_t mapping_hidden_dim = 256;   // mapping-network width (spec §2.1)
  int64_t surf_nf = 16;               // surface-net base channels, a multiple of 8 (spec §3.2)
  int64_t surf_size = 128;            // surface-net output side, a power of two in [64, 1024]
  int64_t nerf_noise_steps = 5000;    // nerf_noise = max(0, 1 - s/nerf_noise_steps), >= 1
  int64_t l_ratio_start = 5000;       // l_ratio = clamp((s - start)/steps, 0, 1)
  int64_t l_ratio_steps = 2000;       // >= 1
  // The surface net's depth loss (spec §3.2): "l1+lpips" (the reference's: L1 plus LPIPS-VGG of
  // the normalised depth maps) or "l1". Explicit because LPIPS needs weights that cannot be
  // downloaded here: a run without them must say "l1" rather than silently train another loss.
  std::string depth_loss = "l1+lpips";

  // --- ours: not the reference's, off by default (configs/README.md, "Learning keys"): what a
  //     tiny run on 2 CPU cores needs to learn within minutes ---
  // Caps every discriminator width (16 ... 400) at this many channels; 0 = the reference's widths.
  int64_t disc_channels = 0;
  // The discriminator's minibatch standard deviation over groups of this many images (ProGAN):
  // lets it see a generator whose every latent gives the same object; 0 = the reference's head.
  int64_t disc_minibatch_std = 0;
  // The SIREN's raw density is density_gain x its density head (Adam moves each weight ~lr a
  // step, so the density reaches an opaque surface density_gain times sooner); > 0.
  double density_gain = 1;
  // Every FiLM frequency of the SIREN (15 f + 30) times this: < 1 starts from a smoother field
  // (fewer ripples in the surface a short run at low resolution cannot iron out); > 0.
  double siren_frequency_scale = 1;
  // The density head's initial bias; absent = the reference's random draw.
  std::optional<double> density_bias;
  // What the Lambertian shading's normals are: "density" (the reference: the density's gradient
  // at every sample, composited) or "depth" (the rendered depth map's normals, smooth at the
  // scale of a pixel and without the double backward; model/depth_normals.h).
  std::string shading_normals = "density";
};

// The parameters in force at one step.
struct Resolved {
  int64_t step = 0;
  // step >= the empty final stage: training is over. `stage` then has start = end step and
  // zero entries, next_upsample_step is none and last_upsample_step is the end step.
  bool done = false;
  Stage stage;
  // Smallest stage start <= step whose img_size equals the current one (0 if none): where the
  // discriminator fade-in restarts (spec §1.1). CelebA at 80000 -> 30000.
  int64_t last_upsample_step = 0;
  // Smallest stage start > step whose img_size (the final empty stage counts as 512) exceeds
  // the current one; none means infinity (spec §1.1).
  std::optional<int64_t> next_upsample_step;
  Globals globals;

  // Canonical JSON: {"step", "done", "stage": {...}, "last_upsample_step",
  // "next_upsample_step" (null = infinity), "globals": {...}}; keys sorted.
  nlohmann::json to_json() const;
};

struct CurriculumSource;  // the parsed TOML, kept so overrides can be re-validated (curriculum.cpp)

struct Curriculum {
  std::string name;            // the file's stem, e.g. CelebA_ShadeGAN_view
  std::string file;            // where it was read from (for messages)
  std::vector<Stage> stages;   // increasing `start`, the first at 0; without the end marker
  int64_t end_step = 0;        // start of the empty final stage
  Globals globals;

  // The parameters at `step` (>= 0; a negative step is a ConfigError).
  Resolved at(int64_t step) const;

  // Canonical JSON of the whole curriculum (every stage, the end step, every global with its
  // default or fallback filled in; keys sorted). Equal curricula give equal JSON, whatever
  // their file name, key order, comments or which defaults were spelled out: this is what
  // fingerprints hash.
  nlohmann::json to_json() const;

  // `--set key=value`: `key` is a global key ("fov", "betas") or a stage key
  // ("stages.30000.batch_size"); `value` is TOML ("2e-5", "[0, 0.99]", "true") or a bare
  // string ("Cats"). The whole curriculum is re-validated; any error is a ConfigError naming
  // "--set <key>". On error the curriculum is unchanged.
  void apply_override(const std::string& key, const std::string& value);

  std::shared_ptr<const CurriculumSource> source;

  // The curriculum as it was read: {"name", "file", "text" (the TOML, comments and all),
  // "overrides": [[key, value], ...]}. Checkpoints store this so a run's curriculum travels
  // with its weights; curriculum_from_source rebuilds an equal Curriculum from it.
  nlohmann::json source_json() const;
};

// Inverse of Curriculum::source_json(). ConfigError (naming `where`) on a malformed object or
// a curriculum that no longer validates.
Curriculum curriculum_from_source(const nlohmann::json& j, const std::string& where);

// Read and validate a curriculum file. Every mistake is a ConfigError (exit 2) of the form
// "<file>:<line>: <key>: <what was expected>".
Curriculum load_curriculum(const std::string& path);
// The same from text (tests); `name` doubles as the file name in messages.
Curriculum parse_curriculum(const std::string& text, const std::string& name);

// The valid names of the enumerated string keys (for messages and docs).
extern const std::vector<std::string> kDatasets;
extern const std::vector<std::string> kSampleDists;
extern const std::vector<std::string> kDiscriminators;
extern const std::vector<std::string> kClampModes;
extern const std::vector<std::string> kZDists;
extern const std::vector<std::string> kFillModes;
extern const std::vector<std::string> kDepthLosses;
extern const std::vector<std::string> kShadingNormals;
extern const std::vector<std::string> kModels;
extern const std::vector<std::string> kGenerators;

}  // namespace sg::config
