#pragma once
// The eval stage's work, given a generator ready for inference (app/eval_cmd.cpp loads it from
// a checkpoint): FID, KID and IS against the real images of a shard set (spec §10), shape
// accuracy by inversion against ground truth where the data set has it, and the learning
// measure (learning_measure.h; datasets/README.md) that needs neither inversion nor weights.
// Runs on every MPI rank: fakes, real features and inversions are split across ranks in
// contiguous blocks and gathered to rank 0, whose result is the one to write.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "data/synth.h"
#include "metrics/inception_input.h"
#include "metrics/inception_score.h"
#include "metrics/kid.h"
#include "metrics/shape_inversion.h"
#include "model/generator.h"
#include "model/options.h"
#include "model/shading.h"

namespace sg::metrics {

struct MetricSelection {
  bool fid = false, kid = false, is = false, shape = false, learning = false;
  bool automatic = false;  // "auto": Inception metrics only when weights resolve
};
// "auto" | "all" | a comma list of fid, kid, is, shape, learning. ConfigError listing the
// valid names.
MetricSelection parse_metric_selection(const std::string& text);

struct EvalOptions {
  MetricSelection metrics;
  std::string inception_weights;  // resolved file, or "" (then FID/KID/IS are skipped)
  std::string inception_missing;  // why there is none, for metrics.json "skipped"
  int64_t num_images = 2048;      // fakes (eval_metrics.py --num_images)
  int64_t real_images = 8000;     // reals (fid_evaluation.py --num_imgs), at most the set's count
  int64_t batch_size = 4;
  InceptionInput input = InceptionInput::torch_fidelity;
  bool jpeg = true;               // spec §12.19: both sides saved as JPEG quality 75 first
  int jpeg_quality = 75;
  uint64_t seed = 0;              // latents, lights, the real subset and its flips
  KidOptions kid;
  InceptionScoreOptions is;
  int64_t shape_images = 16;      // K held-out images to invert
  int64_t shape_img_size = 32;
  InversionOptions inversion;     // M steps, learning rate
  std::string cache_dir;          // real features, beside the shard stage
  // The learning measure: m generated images (the first m of the fakes above: the same seeds),
  // m from the untrained generator, and 2m held-out reals split into halves A and B.
  int64_t learning_images = 128;
  int64_t silhouette_size = 16;   // silhouettes area-averaged to this many px (at most img_size)
  KidOptions learning_kid{50, 0}; // subset_size 0: half of m
};

struct EvalResult {
  nlohmann::json metrics = nlohmann::json::object();   // flat name -> number
  nlohmann::json skipped = nlohmann::json::object();   // name -> reason
  nlohmann::json settings = nlohmann::json::object();  // what produced them
  // Where 0 and 100% of the learning measure are: {"untrained": {...}, "real_vs_real": {...}}
  // with the same names as the metrics.
  nlohmann::json reference_points = nlohmann::json::object();
};

// `prior`: the light prior fakes are lit with (nullptr without shading). `shard_dir`: the real
// images (and ground truth, for shape). `synth`: when the shards were made by the synthetic
// generator with these parameters, shape accuracy uses fresh held-out samples (indices past
// the set's count, never trained on); otherwise the last K samples of the shards. The learning
// measure's reals come from the same place (held-out samples from index count on, else a seeded
// subset of the shards). `untrained`: the same curriculum freshly initialised, the learning
// measure's 0%; null leaves the measure without scores (metrics.json says why).
EvalResult evaluate(model::GeneratorImpl& generator, const model::RenderOptions& render,
                    const model::LightPrior* prior, const std::string& shard_dir,
                    const std::optional<data::SynthParams>& synth, const EvalOptions& options,
                    model::GeneratorImpl* untrained = nullptr);

}  // namespace sg::metrics
