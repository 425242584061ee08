// The renderer's entry points on scenes whose images are known: a generator whose SIREN has
// constant density and colour (every weight zero but two biases) renders, for every view and
// light, albedo sigmoid(b), normals 0 (the density has no gradient, so the composited normal is
// 0 / (0 + 1e-7)), no diffuse light and shading k_a; and the seed's files, sheet and GIF are all
// there. Also: per-seed outputs with skip-on-rerun, and determinism of the parity fixture's
// generator under fixed draws.
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/json_file.h"
#include "data/codec.h"
#include "model/generator.h"
#include "render/gif.h"
#include "render/render_seed.h"
#include "render/seed_list.h"
#include "weights/state_dict.h"
#include <doctest/doctest.h>

namespace fs = std::filesystem;
using namespace sg::render;

namespace {

fs::path tmp_dir(const std::string& name) {
  const char* t = std::getenv("SG_TEST_TMP");
  fs::path d = fs::path(t ? t : "/tmp") / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

sg::model::Generator constant_generator(double density, const std::vector<float>& color_bias) {
  sg::model::GeneratorConfig cfg;
  cfg.hidden_dim = 16;
  cfg.map_hidden_dim = 16;
  cfg.surf_track = false;
  sg::model::Generator gen(cfg);
  at::NoGradGuard g;
  for (auto& p : gen->named_parameters()) {
    if (p.key().rfind("siren.mapping_network", 0) != 0) p.value().zero_();
  }
  gen->siren->final_layer->bias.fill_(density);
  gen->named_parameters()["siren.color_layer_linear.0.bias"].copy_(at::tensor(color_bias));
  gen->eval();
  return gen;
}

sg::data::Image png(const fs::path& p) { return sg::data::decode_png(sg::read_file(p.string())).image; }

uint8_t q(double v) { return uint8_t(std::min(1.0, std::max(0.0, v)) * 255 + 0.5); }

RenderSettings small_settings(int64_t size) {
  RenderSettings s;
  s.options.img_size = size;
  s.options.num_steps = 6;
  s.options.psi = 0.5;
  s.options.camera.dist = sg::model::CameraDist::fixed;
  s.key = "test";
  return s;
}

}  // namespace

TEST_CASE("constant-density scene renders its analytic images over the yaw and light sweep") {
  const std::vector<float> b{0.3f, 1.f, -1.f};  // no value at a rounding boundary
  sg::model::Generator gen = constant_generator(500, b);
  RenderSettings s = small_settings(8);
  s.rotate = true;
  s.relight = true;
  const fs::path out = tmp_dir("render-constant");
  const auto rec = render_seed(gen, sg::model::LightPrior{}, s, 3, out.string());
  const fs::path dir = out / "seed00003";
  REQUIRE(fs::is_directory(dir));
  CHECK(rec.at("files").size() == 25 * 6 + 2);  // rgb, depth, normal, albedo, shading, diffuse; sheet, gif
  const double ka = 0.17 / 2 + 0.5;              // the relight sweep's ambient term
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 5; ++j) {
      const std::string p = "yaw" + std::to_string(i) + "_light" + std::to_string(j) + "_";
      const auto rgb = png(dir / (p + "rgb.png")), albedo = png(dir / (p + "albedo.png"));
      const auto normal = png(dir / (p + "normal.png")), shading = png(dir / (p + "shading.png"));
      const auto diffuse = png(dir / (p + "diffuse.png"));
      REQUIRE(rgb.width == 8);
      for (int y = 0; y < 8; ++y) {
        for (int x = 0; x < 8; ++x) {
          for (int c = 0; c < 3; ++c) {
            const double a = 1 / (1 + std::exp(-double(b[c])));
            CHECK(int(albedo.px(x, y)[c]) == int(q(a)));
            CHECK(int(rgb.px(x, y)[c]) == int(q(a * ka)));
            CHECK(int(normal.px(x, y)[c]) == 128);
            CHECK(int(diffuse.px(x, y)[c]) == 0);
            CHECK(int(shading.px(x, y)[c]) == 255);
          }
        }
      }
    }
  }
  const auto sheet = png(dir / "sheet.png");
  CHECK(sheet.width == 5 * (8 + 2) + 2);
  CHECK(sheet.height == (5 + 3) * (8 + 2) + 2);
  const auto frames = decode_gif(sg::read_file((dir / "rotation.gif").string()), "rotation.gif");
  CHECK(frames.size() == 8);  // 0 1 2 3 4 3 2 1
  const auto j = sg::read_json((dir / "render.json").string());
  CHECK(j.at("seed") == 3);
  CHECK(j.at("key") == "test");
}

TEST_CASE("fan-out writes one output set per seed and a rerun skips finished seeds") {
  sg::model::Generator gen = constant_generator(50, {0.f, 0.f, 0.f});
  const at::Tensor mean = at::zeros({4}), cov = at::eye(4) * 0.1;
  const sg::model::LightPrior prior = sg::model::make_light_prior(mean, cov, "test prior");
  RenderSettings s = small_settings(4);
  const fs::path out = tmp_dir("render-fanout");
  const std::vector<int64_t> seeds = parse_seeds("0-4");
  int rendered = 0;
  auto run_task = [&](int task, const std::string& key) {
    s.key = key;
    for (int64_t seed : seeds_of_task(seeds, 2, task)) {
      if (!finished_seed(out.string(), seed, s.key).is_null()) continue;
      render_seed(gen, prior, s, seed, out.string());
      ++rendered;
    }
  };
  for (int t = 0; t < task_count(seeds.size(), 2); ++t) run_task(t, "k1");
  CHECK(rendered == 5);
  for (int64_t seed : seeds) CHECK(fs::exists(out / seed_dir_name(seed) / "yaw0_light0_rgb.png"));
  const auto before = fs::last_write_time(out / "seed00002" / "render.json");
  for (int t = 0; t < 3; ++t) run_task(t, "k1");
  CHECK(rendered == 5);  // all skipped
  CHECK(fs::last_write_time(out / "seed00002" / "render.json") == before);
  fs::remove_all(out / "seed00003");  // a lost seed is redone alone
  run_task(1, "k1");
  CHECK(rendered == 6);
  run_task(2, "k2");  // other settings: redone
  CHECK(rendered == 7);
  CHECK(sg::read_json((out / "seed00004" / "render.json").string()).at("key") == "k2");
  // Only whole seed directories: no temporary leftovers.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(out)) entries += e.path().filename().string()[0] == '.' ? 100 : 1;
  CHECK(entries == 5);
}

TEST_CASE("parity fixture generator renders deterministically with fixed draws") {
  fs::path pth = fs::path(SG_SOURCE_DIR) / "tests/fixtures/parity/gen_celeba_view_seed0.pth";
  if (!fs::exists(pth)) pth = fs::path(SG_SHARED_DIR) / "fixtures/parity/gen_celeba_view_seed0.pth";
  REQUIRE(fs::exists(pth));
  sg::model::GeneratorConfig cfg;  // CelebA_ShadeGAN_view with the fixture's surface net nf 8
  cfg.surface_nf = 8;
  sg::model::Generator gen(cfg);
  sg::weights::load_into(*gen, sg::weights::read_state_dict(pth.string()), pth.string(), true);
  gen->eval();
  RenderSettings s = small_settings(12);
  s.options.delta = 0.0649;  // surface tracking on: depth_pred maps too
  s.rotate = true;
  const at::Tensor mean = at::tensor({0.1f, 0.3f, 0.2f, 0.1f}), cov = at::eye(4) * 0.05;
  const auto prior = sg::model::make_light_prior(mean, cov, "test prior");
  const fs::path a = tmp_dir("render-parity-a"), b = tmp_dir("render-parity-b");
  render_seed(gen, prior, s, 0, a.string());
  gen->avg_frequencies = at::Tensor();  // recomputed from the fixed stream: same averages
  render_seed(gen, prior, s, 0, b.string());
  int compared = 0;
  for (const auto& e : fs::directory_iterator(a / "seed00000")) {
    const std::string name = e.path().filename().string();
    if (name == "render.json") continue;
    CHECK_MESSAGE(sg::read_file(e.path().string()) == sg::read_file((b / "seed00000" / name).string()), name);
    ++compared;
  }
  CHECK(compared == 5 * 7 + 2);  // + depth_pred per view; sheet and GIF
  // Another seed is another image.
  const fs::path c = tmp_dir("render-parity-c");
  render_seed(gen, prior, s, 1, c.string());
  CHECK(sg::read_file((a / "seed00000/yaw2_light0_rgb.png").string()) !=
        sg::read_file((c / "seed00001/yaw2_light0_rgb.png").string()));
}

TEST_CASE("a view too big for the budget untiled renders in tiles within it") {
  sg::model::Generator gen = constant_generator(500, {0.3f, 1.f, -1.f});
  RenderSettings s = small_settings(16);
  s.options.max_batch_size = 7 * s.options.num_steps;  // tiles of 7 rays: 256 = 36 * 7 + 4
  const ViewMemory m = view_memory(s.options, 16);
  CHECK(m.tile_rays == 7);
  // The same view in one tile (max_batch_size covering every sample) needs more than the budget.
  sg::model::RenderOptions whole = s.options;
  whole.max_batch_size = 16 * 16 * whole.num_steps;
  CHECK(view_memory(whole, 16).tile_rays == 256);
  const double budget = (m.total() + view_memory_bytes(whole, 16)) / 2;
  REQUIRE(view_memory_bytes(whole, 16) > budget);
  RenderSettings untiled = s;
  untiled.options = whole;
  CHECK_THROWS_AS(validate(untiled, 16, budget), sg::ConfigError);
  validate(s, 16, budget);  // accepted: rendered in tiles
  const fs::path out = tmp_dir("render-tiled");
  s.relight = true;  // no prior: the relight sweep's lights, all with ambient 0.17
  render_seed(gen, sg::model::LightPrior{}, s, 0, out.string());
  const auto rgb = png(out / "seed00000" / "yaw0_light0_rgb.png");
  REQUIRE(rgb.width == 16);
  const double ka = 0.17 / 2 + 0.5;
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x)
      CHECK(int(rgb.px(x, y)[1]) == int(q(ka / (1 + std::exp(-1.0)))));
}

TEST_CASE("settings that cannot render are refused with what to change") {
  RenderSettings s = small_settings(0);
  CHECK_THROWS_WITH_AS(validate(s, 16, 1e9), doctest::Contains("image_size must be >= 1"), sg::ConfigError);
  s = small_settings(8);
  s.options.num_steps = 1;
  CHECK_THROWS_WITH_AS(validate(s, 16, 1e9), doctest::Contains("num_steps must be >= 2"), sg::ConfigError);
  s = small_settings(8);
  s.options.max_batch_size = 0;
  CHECK_THROWS_AS(validate(s, 16, 1e9), sg::ConfigError);
  // Tiles bound the per-sample buffers, not the per-pixel maps and draws of a huge image.
  s = small_settings(100000);
  CHECK_THROWS_WITH_AS(validate(s, 256, 8e9), doctest::Contains("per-pixel"), sg::ConfigError);
  CHECK_THROWS_WITH_AS(validate(s, 256, 8e9), doctest::Contains("budget"), sg::ConfigError);
  // A 1024 px view at the default chunk fits a few GB: its tiles are ~2000 rays.
  s = small_settings(1024);
  s.options.num_steps = 24;
  validate(s, 256, 4e9);
  CHECK(view_memory(s.options, 256).tile_rays == 6250);  // lcm(24, 50000) points: 3 chunks
  // A SIREN chunk too big for the budget names max_batch_size.
  s.options.max_batch_size = 5000000;
  CHECK_THROWS_WITH_AS(validate(s, 256, 4e9), doctest::Contains("max_batch_size"), sg::ConfigError);
}
