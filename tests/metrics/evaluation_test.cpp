// The eval stage's library end to end on tiny inputs: synthetic shards with ground truth, a tiny
// random generator, and the seeded test Inception weights of fid_inception_reference.py.
#include "metrics/evaluation.h"

#include <doctest/doctest.h>
#include <unistd.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "core/subprocess.h"
#include "data/light_prior.h"
#include "data/shard_source.h"
#include "data/sharder.h"
#include "metrics/eval_images.h"
#include "tiny_generator.h"

using namespace sg;
namespace fs = std::filesystem;

namespace {

struct Fixture {
  std::string dir, shards, weights;
  data::SynthParams synth;
};

// Built once per process: shards of 12 synthetic samples and the test Inception weights.
const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture x;
    const char* t = std::getenv("SG_TEST_TMP");
    // One directory per process: ctest -j runs this file's test cases as parallel processes.
    x.dir = std::string(t ? t : "/tmp") + "/metrics_evaluation-" + std::to_string(::getpid());
    fs::remove_all(x.dir);
    fs::create_directories(x.dir);
    x.synth.count = 12;
    x.synth.size = 32;
    x.synth.seed = 5;
    data::ShardOptions opt;
    opt.out_dir = x.shards = x.dir + "/run/shard";
    opt.shard_size = 8;
    data::run_sharding(data::synth_source(x.synth), opt);
    ProcessSpec spec;
    spec.argv = {"/usr/bin/python3", std::string(SG_SOURCE_DIR) + "/tests/metrics/fid_inception_reference.py", x.dir};
    spec.output_path = x.dir + "/python.log";
    if (run_process(spec).code != 0) throw std::runtime_error("python reference failed: " + x.dir + "/python.log");
    x.weights = x.dir + "/weights_legacy.pth";
    return x;
  }();
  return f;
}

model::RenderOptions tiny_render() {
  model::RenderOptions o;
  o.img_size = 16;
  o.num_steps = 6;
  o.psi = 1;
  return o;
}

model::LightPrior prior() {
  const data::LightPrior p = data::default_light_prior();
  return model::make_light_prior(torch::tensor(std::vector<double>(p.mean.begin(), p.mean.end())).to(torch::kFloat),
                                 torch::tensor(std::vector<double>(p.cov.begin(), p.cov.end())).reshape({4, 4}).to(torch::kFloat),
                                 "default");
}

metrics::EvalOptions small_options(const std::string& selection) {
  metrics::EvalOptions o;
  o.metrics = metrics::parse_metric_selection(selection);
  o.num_images = 4;
  o.real_images = 6;
  o.batch_size = 2;
  o.kid.subsets = 3;
  o.is.splits = 2;
  o.shape_images = 2;
  o.shape_img_size = 16;
  o.inversion.steps = 3;
  o.learning_images = 4;  // "all" and "auto" include the learning measure (learning_measure_test.cpp)
  o.cache_dir = fixture().dir + "/run/cache";
  return o;
}

}  // namespace

TEST_CASE("eval computes FID, KID, IS and shape accuracy, and reuses cached real features") {
  const Fixture& fx = fixture();
  model::Generator g = test::tiny_generator();
  const model::LightPrior lp = prior();
  metrics::EvalOptions o = small_options("all");
  o.inception_weights = fx.weights;
  // The generator as its own untrained reference: the learning measure has all its numbers.
  const metrics::EvalResult r = metrics::evaluate(*g, tiny_render(), &lp, fx.shards, fx.synth, o, g.get());
  for (const char* m : {"fid", "kid_mean", "kid_std", "is_mean", "is_std", "depth_sie", "normal_angle_deg",
                        "normal_angle_depth_deg"}) {
    INFO(m);
    REQUIRE(r.metrics.contains(m));
    CHECK(std::isfinite(r.metrics[m].get<double>()));
  }
  CHECK(r.metrics["normal_angle_depth_deg"].get<double>() > 0);
  CHECK(r.metrics["normal_angle_depth_deg"].get<double>() < 180);
  CHECK(r.metrics["fid"].get<double>() > 0);
  CHECK(r.metrics["is_mean"].get<double>() >= 1.0 - 1e-9);  // exp(KL) >= 1
  CHECK(r.metrics["shape_images"].get<int64_t>() == 2);
  CHECK(r.skipped.empty());
  CHECK(r.settings["kid"]["subset_size"] == 4);  // clamped to the 4 fakes, and recorded
  CHECK(r.settings["kid"]["subset_size_asked"] == 1000);
  CHECK(r.settings["real"]["cache_hit"] == false);
  CHECK(fs::exists(r.settings["real"]["cache"].get<std::string>()));

  // Same settings again: the real features come from the cache, and every number is the same.
  const metrics::EvalResult again = metrics::evaluate(*g, tiny_render(), &lp, fx.shards, fx.synth, o);
  CHECK(again.settings["real"]["cache_hit"] == true);
  CHECK(again.metrics["fid"].get<double>() == r.metrics["fid"].get<double>());
  CHECK(again.metrics["kid_mean"].get<double>() == r.metrics["kid_mean"].get<double>());
}

TEST_CASE("eval with metrics auto and no Inception weights skips FID, KID, IS with the reason") {
  const Fixture& fx = fixture();
  model::Generator g = test::tiny_generator();
  const model::LightPrior lp = prior();
  metrics::EvalOptions o = small_options("auto");
  o.inception_missing = "no Inception weights (set SG_INCEPTION_WEIGHTS)";
  // Ground truth from the shards themselves (no synth parameters): the last K samples.
  const metrics::EvalResult r = metrics::evaluate(*g, tiny_render(), &lp, fx.shards, std::nullopt, o);
  CHECK(r.skipped["fid"] == "no Inception weights (set SG_INCEPTION_WEIGHTS)");
  CHECK(r.skipped.contains("kid"));
  CHECK(r.skipped.contains("is"));
  CHECK(!r.metrics.contains("fid"));
  CHECK(r.metrics.contains("normal_angle_deg"));
  CHECK(r.settings["shape"]["source"] == "the last K samples of the shards");

  metrics::EvalOptions explicit_fid = small_options("fid");
  explicit_fid.inception_missing = "no weights";
  CHECK_THROWS_AS(metrics::evaluate(*g, tiny_render(), &lp, fx.shards, fx.synth, explicit_fid), ConfigError);
  CHECK_THROWS_AS(metrics::parse_metric_selection("fid,shpae"), ConfigError);
}

TEST_CASE("generator output is saved as the reference does, and JPEG keeps images close") {
  const at::Tensor rgb = torch::tensor({-1.5f, -1.0f, 0.0f, 0.999f, 1.0f}).view({1, 1, 1, 5}).expand({1, 3, 1, 5});
  const at::Tensor u8 = metrics::generator_output_to_uint8(rgb);
  CHECK(u8[0][0][0][0].item<int>() == 0);
  CHECK(u8[0][0][0][2].item<int>() == 128);  // 0.5 * 255 + 0.5 = 128.0
  CHECK(u8[0][0][0][3].item<int>() == 255);  // 0.9995 * 255 + 0.5 = 255.37
  CHECK(u8[0][0][0][4].item<int>() == 255);
  const at::Tensor img = (torch::arange(3 * 16 * 16) % 200 + 20).to(torch::kByte).view({1, 3, 16, 16});
  const at::Tensor smooth = torch::full({1, 3, 16, 16}, 90, torch::kByte);
  CHECK((metrics::jpeg_round_trip(smooth, 75).to(torch::kInt) - 90).abs().max().item<int>() <= 1);
  CHECK((metrics::jpeg_round_trip(img, 75).sizes() == img.sizes()));
  // Nearest resize picks floor(dst * in / out); flips mirror first.
  const at::Tensor row = torch::arange(8).to(torch::kByte).view({1, 1, 8, 1});
  CHECK(metrics::shard_images_to_nchw(row, 4)[0][0][0].equal(torch::tensor({0, 2, 4, 6}).to(torch::kByte)));
  CHECK(metrics::shard_images_to_nchw(row, 4, torch::tensor({true}))[0][0][0].equal(
      torch::tensor({7, 5, 3, 1}).to(torch::kByte)));
}
