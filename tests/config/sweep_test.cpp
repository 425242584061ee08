// Sweep files: grid (cartesian) and zip expansion, readable point names, overrides of stage
// parameters and curriculum keys, and errors naming file:line.
#include "config/sweep.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/error.h"

using namespace sg::config;

namespace {
std::string write(const std::string& name, const std::string& text) {
  const char* t = std::getenv("SG_TEST_TMP");
  // One folder per process: ctest runs every test case as a process of its own, two at once, and
  // all of them write base.toml, which one truncated while another read it (a CI failure).
  const std::string dir = std::string(t ? t : "/tmp") + "/sweep_test-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/" + name) << text;
  return dir + "/" + name;
}
const char* kBase = R"(
[pipeline]
name = "base"
[[stage]]
name = "train"
kind = "train"
curriculum = "c.toml"
set = ["fov=12"]
seed = 0
[[stage]]
name = "eval"
kind = "eval"
after = ["train"]
)";
}  // namespace

TEST_CASE("a grid times a zip gives every combination, keys in sorted order, with readable names") {
  write("base.toml", kBase);
  const Sweep s = load_sweep(write("s.sweep.toml", R"(
[sweep]
name = "lr"
pipeline = "base.toml"
[grid]
"train.seed" = [0, 1]
"train.curriculum.gen_lr" = [2e-5, 6e-5, 1e-4]
[zip]
"eval.num_images" = [8, 16]
"eval.seed" = [3, 4]
)"));
  CHECK(s.points.size() == 2 * 3 * 2);
  CHECK(s.points[0].name == "gen_lr-2e-05_seed-0_num_images-8_seed-3");
  CHECK(s.points[1].name == "gen_lr-2e-05_seed-0_num_images-16_seed-4");
  CHECK(s.points.back().name == "gen_lr-0.0001_seed-1_num_images-16_seed-4");
  const Pipeline base = load_pipeline(s.pipeline);
  const Pipeline p = point_pipeline(s, base, s.points[1]);
  const StageDecl* train = find_stage(p, "train");
  REQUIRE(train);
  CHECK(train->params.at("seed").value == 0);
  CHECK(train->params.at("set").value == nlohmann::json({"fov=12", "gen_lr=2e-05"}));
  CHECK(find_stage(p, "eval")->params.at("num_images").value == 16);
  const auto j = point_json(s, s.points[1]);
  CHECK(j["sweep"] == "lr");
  CHECK(j["run"] == s.points[1].name);
  CHECK(j["point"]["train.curriculum.gen_lr"] == 2e-5);
}

TEST_CASE("hostile values keep their text and give safe, distinct names") {
  write("base.toml", kBase);
  const Sweep s = load_sweep(write("h.sweep.toml", R"EOS(
[sweep]
name = "h"
pipeline = "base.toml"
[grid]
"train.device" = ["$(rm -rf /)", "`x`", "a/../b", "$(rm -rf /)x"]
)EOS"));
  REQUIRE(s.points.size() == 4);
  for (const auto& p : s.points) {
    CHECK(p.name.find('/') == std::string::npos);
    CHECK(p.name.find('$') == std::string::npos);
    CHECK(p.name.find('`') == std::string::npos);
  }
  CHECK(s.points[0].name != s.points[3].name);
  const Pipeline p = point_pipeline(s, load_pipeline(s.pipeline), s.points[0]);
  CHECK(find_stage(p, "train")->params.at("device").value == "$(rm -rf /)");
}

TEST_CASE("values that clean to one name, or to a name a counter gives, still get distinct names in a stable order") {
  write("base.toml", kBase);
  const std::string text = R"EOS(
[sweep]
name = "c"
pipeline = "base.toml"
[grid]
"train.device" = ["a b", "a_b", "a_b-2", "a/b"]
)EOS";
  const Sweep s = load_sweep(write("c.sweep.toml", text));
  REQUIRE(s.points.size() == 4);
  std::set<std::string> names;
  for (const auto& p : s.points) names.insert(p.name);
  CHECK(names.size() == 4);
  // Deterministic: loading again gives the same names for the same values.
  const Sweep again = load_sweep(write("c.sweep.toml", text));
  for (size_t i = 0; i < s.points.size(); ++i) CHECK(again.points[i].name == s.points[i].name);
}

TEST_CASE("sweep mistakes name the file and line") {
  write("base.toml", kBase);
  CHECK_THROWS_WITH_AS(load_sweep(write("e1.toml", "[sweep]\nname = \"x\"\npipeline = \"base.toml\"\n[zip]\n\"a.b\" = [1, 2]\n\"a.c\" = [1]\n")),
                       doctest::Contains("e1.toml:6"), sg::ConfigError);
  CHECK_THROWS_WITH_AS(load_sweep(write("e2.toml", "[sweep]\nname = \"x\"\npipeline = \"base.toml\"\n[grid]\n\"seed\" = [1]\n")),
                       doctest::Contains("stage.param"), sg::ConfigError);
  CHECK_THROWS_WITH_AS(load_sweep(write("e3.toml", "[sweep]\nname = \"x\"\npipeline = \"base.toml\"\n[grid]\n\"a.b\" = []\n")),
                       doctest::Contains("non-empty"), sg::ConfigError);
  const Sweep s = load_sweep(write("e4.toml", "[sweep]\nname = \"x\"\npipeline = \"base.toml\"\n[grid]\n\"trian.seed\" = [1]\n"));
  CHECK_THROWS_WITH_AS(point_pipeline(s, load_pipeline(s.pipeline), s.points[0]), doctest::Contains("did you mean 'train'"),
                       sg::ConfigError);
}
