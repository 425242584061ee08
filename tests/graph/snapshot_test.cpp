#include "graph/snapshot.h"

#include <doctest/doctest.h>

#include <limits>

#include "test_kinds.h"

TEST_CASE("TOML values read back as the same JSON") {
  using sg::graph::toml_value;
  const nlohmann::json values[] = {0.1, 1e-300, 2.0, -0.0, 123456789.125, 1e22, 7, -3, true,
                                   "quote \" backslash \\ newline \n tab \t unicode é ✓",
                                   nlohmann::json::array({"a", "b"}), nlohmann::json::array()};
  for (const auto& v : values) {
    CAPTURE(v.dump());
    const auto p = sg::config::parse_pipeline("[[stage]]\nname = \"s\"\nkind = \"k\"\nv = " + toml_value(v) + "\n", "t");
    CHECK(p.stages[0].params.at("v").value == v);
    CHECK(p.stages[0].params.at("v").value.type() == v.type());
  }
}

TEST_CASE("run.toml rebuilds exactly the planned graph") {
  const std::string dir = sg::test::scratch_dir("graph_snapshot");
  const auto g = sg_test::graph_of(std::string(sg_test::kChain) + "\n[[stage]]\nname = \"e\"\nkind = \"t_mpi\"\nranks = 3\n",
                                   {"b.scale=0.30000000000000004", "c.label=\"multi\nline\""});
  CHECK(sg::graph::write_snapshot(dir, g));
  CHECK_FALSE(sg::graph::write_snapshot(dir, g));  // same content: not rewritten
  const auto back = sg::graph::load_snapshot(dir);
  REQUIRE(back.stages.size() == g.stages.size());
  CHECK(back.name == "chain");
  for (size_t i = 0; i < g.stages.size(); ++i) {
    CAPTURE(g.stages[i].name);
    CHECK(back.stages[i].name == g.stages[i].name);
    CHECK(back.stages[i].params == g.stages[i].params);
    CHECK(back.stages[i].fingerprint == g.stages[i].fingerprint);
    CHECK(back.stages[i].ranks == g.stages[i].ranks);
  }
  CHECK(back.stages[4].ranks == 3);
  CHECK_THROWS_AS(sg::graph::load_snapshot(dir + "/nothing"), sg::ConfigError);
  // The pipeline file it was planned from (relative run globs of aggregate resolve against it).
  CHECK(sg::graph::snapshot_source(dir) == "/jobs/p.toml");
  CHECK(sg::graph::snapshot_source(dir + "/nothing") == "");
}
