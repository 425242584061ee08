// The learning measure (issue 20): its arithmetic on hand-made sets, and the eval stage's
// version end to end on synthetic shards: real-vs-real far better than an untrained
// generator, and a generator compared with itself as the untrained one scoring exactly 0.
#include "metrics/learning_measure.h"

#include <ATen/ATen.h>
#include <doctest/doctest.h>
#include <unistd.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "data/light_prior.h"
#include "data/shard_source.h"
#include "data/sharder.h"
#include "metrics/evaluation.h"
#include "metrics/random_features.h"
#include "tiny_generator.h"

using namespace sg;
using namespace sg::metrics;
namespace fs = std::filesystem;

TEST_CASE("normalised score: 0 at the untrained value, 1 at real-vs-real") {
  CHECK(*normalised_score(10, 10, 1) == 0.0);
  CHECK(*normalised_score(1, 10, 1) == 1.0);
  CHECK(*normalised_score(4, 10, 1) == doctest::Approx(2.0 / 3.0));
  CHECK(*normalised_score(12, 10, 1) == doctest::Approx(-2.0 / 9.0));  // worse than untrained
  CHECK(!normalised_score(3, 1, 1));   // the references do not differ
  CHECK(!normalised_score(3, 1, 2));   // untrained closer than real: the distance is useless
}

TEST_CASE("learning measure on hand-made sets: a generator halfway between scores in between") {
  // Features and silhouettes of four sets: the reals two samples of one distribution, the
  // untrained generator shifted by 3, the generator by 2 (the cubic kernel grows faster than
  // the shift: a shift of 1 already scores 0.99).
  torch::manual_seed(11);
  auto set = [](double shift) {
    return LearningSet{at::randn({64, 20}, at::kDouble) * 0.5 + shift, at::rand({64, 9}, at::kDouble) * 0.3 + shift / 6};
  };
  const LearningSet a = set(0), b = set(0), untrained = set(3), generated = set(2);
  KidOptions k;
  k.subsets = 20;
  k.subset_size = 32;
  const LearningMeasure m = learning_measure(generated, &untrained, a, b, k);
  REQUIRE(m.untrained);
  CHECK(m.generated.has_silhouette);
  CHECK(std::abs(m.real_vs_real.kid_features) < 0.1 * m.generated.kid_features);
  CHECK(m.generated.kid_features < m.untrained->kid_features);
  REQUIRE(m.score_features);
  REQUIRE(m.score_silhouette);
  MESSAGE("scores " << *m.score_features << " " << *m.score_silhouette);
  CHECK(*m.score_features > 0.2);
  CHECK(*m.score_features < 0.9);
  CHECK(*m.score_silhouette > 0.2);
  CHECK(*m.score_silhouette < 0.9);
  CHECK(*m.score == doctest::Approx((*m.score_features + *m.score_silhouette) / 2));
  // Real-vs-real silhouettes overlap better than the untrained ones.
  CHECK(m.real_vs_real.silhouette_iou > m.untrained->silhouette_iou);
  // Without silhouettes on one side the silhouette distance is left out, and the score is the
  // features' alone; without an untrained generator there is no score.
  const LearningMeasure f = learning_measure({generated.features, {}}, &untrained, a, b, k);
  CHECK(!f.generated.has_silhouette);
  CHECK(!f.score_silhouette);
  CHECK(*f.score == *f.score_features);
  CHECK(!learning_measure(generated, nullptr, a, b, k).score);
  const nlohmann::json j = learning_distances_json(m.generated);
  CHECK(j["silhouette_kid"].get<double>() == m.generated.silhouette_kid);
  CHECK(!learning_distances_json(f.generated).contains("silhouette_kid"));
}

namespace {

// Shards of 16 synthetic samples at 32 px, built once per process.
struct Shards {
  std::string dir;
  data::SynthParams synth;
};
const Shards& shards() {
  static const Shards s = [] {
    Shards x;
    const char* t = std::getenv("SG_TEST_TMP");
    x.dir = std::string(t ? t : "/tmp") + "/metrics_learning-" + std::to_string(::getpid());
    fs::remove_all(x.dir);
    x.synth.count = 16;
    x.synth.size = 32;
    x.synth.seed = 9;
    data::ShardOptions opt;
    opt.out_dir = x.dir + "/shard";
    opt.shard_size = 8;
    data::run_sharding(data::synth_source(x.synth), opt);
    return x;
  }();
  return s;
}

model::LightPrior light_prior() {
  const data::LightPrior p = data::default_light_prior();
  return model::make_light_prior(torch::tensor(std::vector<double>(p.mean.begin(), p.mean.end())).to(torch::kFloat),
                                 torch::tensor(std::vector<double>(p.cov.begin(), p.cov.end())).reshape({4, 4}).to(torch::kFloat),
                                 "default");
}

model::RenderOptions render16() {
  model::RenderOptions o;
  o.img_size = 16;
  o.num_steps = 6;
  o.psi = 1;
  return o;
}

EvalOptions learning_only(int64_t m) {
  EvalOptions o;
  o.metrics = parse_metric_selection("learning");
  o.learning_images = m;
  o.silhouette_size = 8;
  o.batch_size = 8;
  return o;
}

}  // namespace

TEST_CASE("eval's learning measure: real-vs-real far better than an untrained generator") {
  const Shards& s = shards();
  model::Generator g = test::tiny_generator();
  torch::manual_seed(123);
  model::GeneratorConfig c;
  c.z_dim = 8;
  c.hidden_dim = 16;
  c.map_hidden_dim = 16;
  c.surf_track = false;
  model::Generator fresh(c);
  fresh->eval();
  const model::LightPrior lp = light_prior();
  const EvalOptions o = learning_only(24);
  const EvalResult r = evaluate(*g, render16(), &lp, s.dir + "/shard", s.synth, o, fresh.get());
  MESSAGE(r.metrics.dump() << "\n" << r.reference_points.dump());
  const nlohmann::json& real = r.reference_points["real_vs_real"];
  const nlohmann::json& untrained = r.reference_points["untrained"];
  // A second sample of the held-out objects is far closer to the first than random generators.
  CHECK(std::abs(real["kid_random_features"].get<double>()) < 0.1 * untrained["kid_random_features"].get<double>());
  CHECK(std::abs(real["silhouette_kid"].get<double>()) < 0.1 * untrained["silhouette_kid"].get<double>());
  CHECK(std::abs(real["kid_random_features"].get<double>()) < 0.1 * r.metrics["kid_random_features"].get<double>());
  CHECK(real["silhouette_iou"].get<double>() > untrained["silhouette_iou"].get<double>() + 0.2);
  for (const char* k : {"learning_score", "learning_score_features", "learning_score_silhouette", "silhouette_iou"}) {
    INFO(k);
    REQUIRE(r.metrics.contains(k));
    CHECK(std::isfinite(r.metrics[k].get<double>()));
  }
  CHECK(r.settings["learning"]["images"] == 24);
  CHECK(r.settings["learning"]["silhouette"]["size"] == 8);
  CHECK(r.settings["learning"]["feature_map"]["seed"] == kRandomFeatureSeed);
  CHECK(r.skipped.empty());

  // The generator as its own untrained reference: the same draws give the same images, so the
  // score is exactly 0, and the run is deterministic.
  const EvalResult self = evaluate(*g, render16(), &lp, s.dir + "/shard", s.synth, o, g.get());
  CHECK(self.metrics["learning_score"].get<double>() == 0.0);
  CHECK(self.metrics["kid_random_features"] == r.metrics["kid_random_features"]);
  CHECK(self.reference_points["real_vs_real"] == r.reference_points["real_vs_real"]);
}

TEST_CASE("eval's learning measure without synth parameters or untrained generator") {
  const Shards& s = shards();
  model::Generator g = test::tiny_generator();
  const model::LightPrior lp = light_prior();
  // From the shards: at most half their 16 items per set; masks from the shards' ground truth.
  const EvalResult r = evaluate(*g, render16(), &lp, s.dir + "/shard", std::nullopt, learning_only(100));
  CHECK(r.settings["learning"]["images"] == 8);
  CHECK(r.metrics.contains("silhouette_kid"));
  CHECK(!r.metrics.contains("learning_score"));
  CHECK(r.skipped["learning_score"] == "no untrained generator to set the 0% point");
  CHECK(!r.reference_points.contains("untrained"));
  CHECK(r.reference_points.contains("real_vs_real"));
  // last_back: every ray's opacity is 1, so silhouettes are skipped with the reason.
  model::RenderOptions lb = render16();
  lb.last_back = true;
  const EvalResult b = evaluate(*g, lb, &lp, s.dir + "/shard", s.synth, learning_only(4), g.get());
  CHECK(!b.metrics.contains("silhouette_kid"));
  CHECK(b.skipped.contains("silhouette_kid"));
  CHECK(b.metrics["learning_score"] == b.metrics["learning_score_features"]);
}
