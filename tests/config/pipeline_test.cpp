#include "config/pipeline.h"

#include <doctest/doctest.h>

#include "core/error.h"

using sg::config::parse_pipeline;

// The error a pipeline text produces ("" when it parses).
static std::string error_of(const std::string& text, const std::vector<sg::config::Override>& o = {}) {
  try {
    parse_pipeline(text, "p.toml", o);
    return "";
  } catch (const sg::ConfigError& e) {
    CHECK(e.code == sg::ExitCode::usage);
    return e.what();
  }
}

static const char* kGood = R"(
[pipeline]
name = "demo"
ranks = 2

[[stage]]
name = "shard"
kind = "shard"
size = 64

[[stage]]
name = "train"
kind = "train"
after = ["shard"]
ranks = 1
lr = 2e-5
steps = 100
tags = ["a", "b"]
)";

TEST_CASE("a pipeline parses into stages with typed parameters and locations") {
  const auto p = parse_pipeline(kGood, "p.toml");
  CHECK(p.name == "demo");
  CHECK(p.ranks == 2);
  REQUIRE(p.stages.size() == 2);
  const auto& t = p.stages[1];
  CHECK(t.name == "train");
  CHECK(t.kind == "train");
  CHECK(t.after == std::vector<std::string>{"shard"});
  CHECK(t.ranks == 1);
  CHECK(p.stages[0].ranks == std::nullopt);
  CHECK(t.where == "p.toml:12");
  REQUIRE(t.params.size() == 3);
  CHECK(t.params.at("lr").value.is_number_float());
  CHECK(t.params.at("lr").value.get<double>() == 2e-5);
  CHECK(t.params.at("steps").value.is_number_integer());
  CHECK(t.params.at("steps").where == "p.toml:17");
  CHECK(t.params.at("tags").value == nlohmann::json({"a", "b"}));
}

TEST_CASE("the pipeline name defaults to the file's stem") {
  const auto p = parse_pipeline("[[stage]]\nname = \"a\"\nkind = \"k\"\n", "jobs/nightly.toml");
  CHECK(p.name == "nightly");
  CHECK(p.ranks == 1);
}

TEST_CASE("--set overrides parameters and ranks, and says where a value came from") {
  using sg::config::parse_override;
  const auto o1 = parse_override("train.steps=500");
  CHECK(o1.stage == "train");
  CHECK(o1.key == "steps");
  CHECK(o1.value == "500");
  const auto p = parse_pipeline(kGood, "p.toml", {o1, parse_override("train.ranks=2"),
                                                   parse_override("shard.name_list=[\"x\"]")});
  CHECK(p.stages[1].params.at("steps").value == 500);
  CHECK(p.stages[1].params.at("steps").where == "--set train.steps");
  CHECK(p.stages[1].ranks == 2);
  CHECK(p.stages[0].params.at("name_list").value == nlohmann::json({"x"}));
  CHECK_THROWS_AS(parse_override("steps=5"), sg::ConfigError);
  CHECK_THROWS_AS(parse_override("train.steps"), sg::ConfigError);
  CHECK(error_of(kGood, {parse_override("trian.steps=5")}).find("unknown stage 'trian' (did you mean 'train'?)") !=
        std::string::npos);
  CHECK(error_of(kGood, {parse_override("train.after=[]")}).find("cannot be overridden") != std::string::npos);
  CHECK(error_of(kGood, {parse_override("train.ranks=0")}).find("expected an integer >= 1") != std::string::npos);
}

TEST_CASE("structural mistakes name file:line and what was expected") {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"[[stage]]\nname = \"a\"\nkind = \"k\"\n[[stage]]\nname = \"a\"\nkind = \"k\"\n",
       "p.toml:5: stage name 'a' is used twice (first at p.toml:2)"},
      {"[[stage]]\nname = \"a\"\nkind = \"k\"\nafter = [\"b\"]\n",
       "p.toml:2: a.after: unknown stage 'b'"},
      {"[[stage]]\nname = \"a\"\nkind = \"k\"\nafter = [\"a\"]\n", "p.toml:2: a.after: a stage cannot depend on itself"},
      {"[[stage]]\nname = \"a\"\nkind = \"k\"\nafter = [\"c\"]\n[[stage]]\nname = \"b\"\nkind = \"k\"\nafter = [\"a\"]\n"
       "[[stage]]\nname = \"c\"\nkind = \"k\"\nafter = [\"b\"]\n",
       "dependency cycle: a -> c -> b -> a"},
      {"[[stage]]\nkind = \"k\"\n", "p.toml:1: stage[0]: missing key 'name'"},
      {"[[stage]]\nname = \"a\"\n", "p.toml:2: a: missing key 'kind'"},
      {"[[stage]]\nname = \"a b\"\nkind = \"k\"\n", "p.toml:2: stage[0].name: 'a b' is not a valid stage name"},
      {"[[stage]]\nname = \"logs\"\nkind = \"k\"\n", "is not a valid stage name"},
      {"[[stage]]\nname = \"a\"\nkind = 3\n", "p.toml:3: a.kind: expected a string, got an integer"},
      {"[[stage]]\nname = \"a\"\nkind = \"k\"\nafter = \"b\"\n", "p.toml:4: a.after: expected an array of stage names"},
      {"[[stage]]\nname = \"a\"\nkind = \"k\"\nranks = 0\n", "p.toml:4: a.ranks: expected an integer >= 1"},
      {"[pipeline]\nnmae = \"x\"\n[[stage]]\nname = \"a\"\nkind = \"k\"\n",
       "p.toml:2: pipeline.nmae: unknown key 'nmae' (did you mean 'name'?)"},
      {"[pipline]\n", "p.toml:1: pipline: unknown key 'pipline' (did you mean 'pipeline'?)"},
      {"[pipeline]\nname = \"x\"\n", "p.toml: no stages"},
      {"[[stage]]\nname = \"a\"\nkind = \"k\"\nwhen = 1979-05-27\n", "p.toml:4: a.when: dates and times are not supported"},
      {"[[stage]]\nname = \"a\"\nkind = \"k\"\nx = [1,\n", "p.toml:4:"},  // TOML syntax error
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    const std::string e = error_of(c.text);
    CHECK_MESSAGE(e.find(c.message) != std::string::npos, e);
  }
}
