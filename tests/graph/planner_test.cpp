#include "graph/planner.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "core/json_file.h"
#include "graph/snapshot.h"
#include "test_kinds.h"

using namespace sg::graph;

namespace {

// Plans `g` in `dir`, runs what is stale in process (as stage-exec would), returns the plan.
Plan run_all(const JobGraph& g, const std::string& dir, const PlanOptions& opt = {}) {
  write_snapshot(dir, g);
  Plan p = plan(g, dir, opt);
  for (size_t i = 0; i < g.stages.size(); ++i)
    if (p.stages[i].run) sg_test::run_here(dir, g.stages[i].name);
  return p;
}

std::vector<std::string> to_run(const Plan& p, const JobGraph& g) {
  std::vector<std::string> out;
  for (size_t i = 0; i < g.stages.size(); ++i)
    if (p.stages[i].run) out.push_back(g.stages[i].name);
  return out;
}

bool has_reason(const Plan& p, const JobGraph& g, const std::string& stage, const std::string& reason) {
  for (const auto& r : p.stages[g.index(stage)].reasons)
    if (r == reason) return true;
  return false;
}

using Names = std::vector<std::string>;

}  // namespace

TEST_CASE("a fresh run plans everything as new, after it, nothing is stale") {
  const std::string dir = sg::test::scratch_dir("graph_planner_fresh");
  const auto g = sg_test::graph_of(sg_test::kChain);
  const Plan first = run_all(g, dir);
  CHECK(to_run(first, g) == Names{"a", "b", "c", "d"});
  for (const auto& s : first.stages) CHECK(s.reasons == Names{"new (never run)"});
  const Plan second = plan(g, dir);
  CHECK(second.to_run() == 0);
  for (const auto& s : second.stages) {
    CHECK(s.reasons.empty());
    REQUIRE(s.marker);
  }
  CHECK(plan(g, dir, {{}, true}).to_run() == 0);  // --verify agrees
}

TEST_CASE("a changed parameter reruns exactly that stage and its dependents, and says why") {
  const std::string dir = sg::test::scratch_dir("graph_planner_param");
  run_all(sg_test::graph_of(sg_test::kChain), dir);
  const auto g = sg_test::graph_of(sg_test::kChain, {"b.size=7", "b.label=\"BB\""});
  const Plan p = plan(g, dir);
  CHECK(to_run(p, g) == Names{"b", "c"});
  CHECK(p.stages[g.index("b")].reasons ==
        Names{"parameter label changed from \"B\" to \"BB\"", "parameter size changed from 4 to 7"});
  CHECK(has_reason(p, g, "c", "input b changed"));
  CHECK(has_reason(p, g, "c", "input b will rerun"));
  // Nothing is written by planning; running makes it all current again.
  run_all(g, dir);
  CHECK(plan(g, dir).to_run() == 0);
  // Going back reruns them again (markers hold one state, not a cache of all).
  CHECK(to_run(plan(sg_test::graph_of(sg_test::kChain), dir), g) == Names{"b", "c"});
}

TEST_CASE("--force reruns one stage and its dependents") {
  const std::string dir = sg::test::scratch_dir("graph_planner_force");
  const auto g = sg_test::graph_of(sg_test::kChain);
  run_all(g, dir);
  PlanOptions opt;
  opt.force = {"b"};
  const Plan p = plan(g, dir, opt);
  CHECK(to_run(p, g) == Names{"b", "c"});
  CHECK(p.stages[g.index("b")].reasons == Names{"forced (--force b)"});
  CHECK(p.stages[g.index("c")].reasons == Names{"input b will rerun"});
  opt.force = {"bb"};
  CHECK_THROWS_WITH_AS(plan(g, dir, opt), doctest::Contains("unknown stage 'bb' (did you mean 'b'?)"),
                       sg::ConfigError);
}

TEST_CASE("missing, resized and (with --verify) altered outputs make a stage stale") {
  const std::string dir = sg::test::scratch_dir("graph_planner_outputs");
  const auto g = sg_test::graph_of(sg_test::kChain);
  run_all(g, dir);
  std::filesystem::remove(dir + "/d/sub/extra.bin");
  Plan p = plan(g, dir);
  CHECK(to_run(p, g) == Names{"d"});
  CHECK(p.stages[g.index("d")].reasons == Names{"output sub/extra.bin missing"});

  std::ofstream(dir + "/a/sub/extra.bin", std::ios::app) << "more";
  p = plan(g, dir);
  CHECK(to_run(p, g) == Names{"a", "b", "c", "d"});
  CHECK(p.stages[g.index("a")].reasons == Names{"output sub/extra.bin size changed from 4 to 8"});
  CHECK(p.stages[g.index("b")].reasons == Names{"input a will rerun"});
  run_all(g, dir);

  std::ofstream(dir + "/c/sub/extra.bin") << "yyyy";  // same size, other bytes
  CHECK(plan(g, dir).to_run() == 0);
  PlanOptions verify;
  verify.verify = true;
  p = plan(g, dir, verify);
  CHECK(to_run(p, g) == Names{"c"});
  CHECK(p.stages[g.index("c")].reasons == Names{"output sub/extra.bin content changed (hash differs)"});
}

TEST_CASE("failed and interrupted attempts are named, a kind's version bump reruns its stages") {
  const std::string dir = sg::test::scratch_dir("graph_planner_attempts");
  const auto g = sg_test::graph_of(sg_test::kChain);
  run_all(g, dir);
  std::filesystem::remove(marker_path(dir, "b"));
  write_failure(dir, "b", 1, "exit code 1");
  Plan p = plan(g, dir);
  CHECK(to_run(p, g) == Names{"b", "c"});
  REQUIRE(p.stages[g.index("b")].reasons.size() == 1);
  CHECK(p.stages[g.index("b")].reasons[0].find("previous attempt failed (exit 1 at 20") == 0);

  std::filesystem::remove(failure_path(dir, "b"));
  sg::write_json_atomic(running_path(dir, "b"), {{"pid", 999999999}, {"host", this_host()}, {"started", "then"}});
  p = plan(g, dir);
  CHECK(p.stages[g.index("b")].reasons == Names{"previous attempt was interrupted (started then)"});

  run_all(g, dir);
  CHECK(plan(g, dir).to_run() == 0);
  CHECK_FALSE(std::filesystem::exists(running_path(dir, "b")));

  // The same kind at version 2: every t_gen stage reruns, naming the version change.
  KindSpec v2 = find_kind("t_gen");
  const KindSpec v1 = v2;
  v2.version = 2;
  register_kind(v2);
  const auto g2 = sg_test::graph_of(sg_test::kChain);
  p = plan(g2, dir);
  register_kind(v1);
  CHECK(p.to_run() == 4);
  CHECK(p.stages[g2.index("a")].reasons == Names{"kind t_gen version changed from 1 to 2"});
}

TEST_CASE("a dependency rebuilt since a stage ran makes it stale, even with the same fingerprint") {
  const std::string dir = sg::test::scratch_dir("graph_planner_rebuilt");
  const auto g = sg_test::graph_of(sg_test::kChain, {"a.salt_each_run=true"});
  run_all(g, dir);
  // Rebuild only a (as a run interrupted right after it would leave things).
  sg_test::run_here(dir, "a");
  const Plan p = plan(g, dir);
  CHECK(to_run(p, g) == Names{"b", "c"});
  CHECK(p.stages[g.index("b")].reasons == Names{"input a was rebuilt since this stage ran"});
}

TEST_CASE("an unreadable marker is stale, not fatal") {
  const std::string dir = sg::test::scratch_dir("graph_planner_corrupt");
  const auto g = sg_test::graph_of(sg_test::kChain);
  run_all(g, dir);
  std::ofstream(marker_path(dir, "d")) << "{not json";
  const Plan p = plan(g, dir);
  CHECK(to_run(p, g) == Names{"d"});
  CHECK(p.stages[g.index("d")].reasons[0].find("marker unreadable") == 0);
}
