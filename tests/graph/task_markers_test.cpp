// Fan-out stages: task markers, which tasks are done, and the stage marker written once every
// task of the current fingerprint and inputs is.
#include <doctest/doctest.h>

#include <filesystem>

#include "graph/planner.h"
#include "graph/task_markers.h"
#include "test_kinds.h"

using namespace sg::graph;

TEST_CASE("index ranges in Slurm's --array syntax") {
  CHECK(index_ranges({0, 1, 2, 3}) == "0-3");
  CHECK(index_ranges({0, 2, 3, 4, 9}) == "0,2-4,9");
  CHECK(index_ranges({5}) == "5");
  CHECK(index_ranges({}) == "");
}

TEST_CASE("task markers count only for the stage's fingerprint and its inputs' outputs") {
  const std::string run = sg::test::scratch_dir("task_markers");
  const JobGraph g = sg_test::graph_of(R"(
[[stage]]
name = "a"
kind = "t_gen"
label = "x"
[[stage]]
name = "fan"
kind = "t_fan"
after = ["a"]
tasks = 3
)");
  const size_t fi = g.index("fan");
  CHECK(stage_task_count(g.stages[fi]) == 3);
  CHECK(is_fanout(g.stages[fi]));
  // The input is not done: no task counts.
  CHECK(missing_tasks(tasks_done(g, fi, run)) == std::vector<int>{0, 1, 2});
  Marker am;
  am.stage = "a";
  am.kind = "t_gen";
  am.fingerprint = g.stages[g.index("a")].fingerprint;
  am.outputs_digest = "d1";
  write_marker(run, am);
  TaskMarker t;
  t.task = 1;
  t.fingerprint = g.stages[fi].fingerprint;
  t.inputs["a"] = {am.fingerprint, "d1"};
  write_task_marker(run, "fan", t);
  CHECK(missing_tasks(tasks_done(g, fi, run)) == std::vector<int>{0, 2});
  // The input rebuilt (another outputs digest): task 1 must rerun.
  am.outputs_digest = "d2";
  write_marker(run, am);
  CHECK(missing_tasks(tasks_done(g, fi, run)) == std::vector<int>{0, 1, 2});
  // A marker of another fingerprint does not count either.
  t.inputs["a"] = {am.fingerprint, "d2"};
  t.fingerprint = "other";
  write_task_marker(run, "fan", t);
  CHECK(missing_tasks(tasks_done(g, fi, run)) == std::vector<int>{0, 1, 2});
  clear_tasks(run, "fan");
  CHECK_FALSE(std::filesystem::exists(tasks_dir(run, "fan")));
}
