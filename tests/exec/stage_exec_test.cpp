#include "exec/stage_exec.h"

#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "../graph/test_kinds.h"
#include "core/atomic_file.h"
#include "core/hash.h"
#include "exec/executor.h"
#include "graph/planner.h"
#include "graph/snapshot.h"
#include "graph/task_markers.h"

using namespace sg;

TEST_CASE("a stage runs from run.toml, sees its inputs, and writes a marker describing its outputs") {
  const std::string dir = sg::test::scratch_dir("exec_stage_ok");
  const auto g = sg_test::graph_of(sg_test::kChain);
  graph::write_snapshot(dir, g);
  CHECK_THROWS_WITH_AS(exec::run_stage_here(dir, "b"), doctest::Contains("input a is not done (no marker)"),
                       StageError);
  const graph::Marker a = exec::run_stage_here(dir, "a");
  const graph::Marker b = exec::run_stage_here(dir, "b");
  CHECK(b.fingerprint == g.stages[1].fingerprint);
  CHECK(b.kind == "t_gen");
  CHECK(b.params == g.stages[1].params);
  CHECK(b.inputs.at("a").fingerprint == a.fingerprint);
  CHECK(b.inputs.at("a").outputs_digest == a.outputs_digest);
  REQUIRE(b.outputs.size() == 2);
  CHECK(b.outputs[0].path == "out.txt");
  CHECK(b.outputs[0].hash == hash_file(dir + "/b/out.txt"));
  CHECK(b.outputs[1].path == "sub/extra.bin");
  CHECK(b.outputs[1].size == 4);
  // The work function saw its input's directory with the input's outputs in it.
  CHECK(read_file(dir + "/b/out.txt").find("\na:1") != std::string::npos);
  const auto back = graph::read_marker(dir, "b");
  REQUIRE(back);
  CHECK(back->outputs_digest == b.outputs_digest);
  CHECK(back->pid == ::getpid());
  CHECK_FALSE(std::filesystem::exists(graph::running_path(dir, "b")));

  CHECK_THROWS_WITH_AS(exec::run_stage_here(dir, "zz"), doctest::Contains("unknown stage 'zz'"), ConfigError);
  CHECK_THROWS_WITH_AS(exec::run_stage_here(dir + "/nope", "a"), doctest::Contains("is not a run directory"),
                       ConfigError);
}

TEST_CASE("an input whose marker is for other parameters is not done") {
  const std::string dir = sg::test::scratch_dir("exec_stage_stale_input");
  graph::write_snapshot(dir, sg_test::graph_of(sg_test::kChain));
  exec::run_stage_here(dir, "a");
  graph::write_snapshot(dir, sg_test::graph_of(sg_test::kChain, {"a.size=9"}));
  CHECK_THROWS_WITH_AS(exec::run_stage_here(dir, "b"), doctest::Contains("input a is not done (its marker is for other"),
                       StageError);
}

TEST_CASE("a failing stage leaves no marker (not even its old one) and no running file") {
  const std::string dir = sg::test::scratch_dir("exec_stage_fail");
  const char* text = "[[stage]]\nname = \"f\"\nkind = \"t_gen\"\nlabel = \"x\"\n";
  graph::write_snapshot(dir, sg_test::graph_of(text));
  exec::run_stage_here(dir, "f");
  REQUIRE(graph::read_marker(dir, "f"));
  // Same stage name, now of a kind that fails: the old marker must not survive the attempt.
  graph::write_snapshot(dir, sg_test::graph_of("[[stage]]\nname = \"f\"\nkind = \"t_fail\"\n"));
  CHECK_THROWS_WITH_AS(exec::run_stage_here(dir, "f"), "t_fail always fails", StageError);
  CHECK_FALSE(graph::read_marker(dir, "f"));
  CHECK_FALSE(std::filesystem::exists(graph::running_path(dir, "f")));
}

TEST_CASE("the local executor starts stage-exec, under mpirun for MPI stages with several ranks") {
  const auto g = sg_test::graph_of("[[stage]]\nname = \"m\"\nkind = \"t_mpi\"\nranks = 2\n"
                                   "[[stage]]\nname = \"one\"\nkind = \"t_mpi\"\nranks = 1\n"
                                   "[[stage]]\nname = \"g\"\nkind = \"t_gen\"\nlabel = \"x\"\n");
  exec::LocalOptions o;
  o.exe = "/bin/shadegan";
  using V = std::vector<std::string>;
  CHECK(exec::stage_command(o, g.stages[0], "/r") ==
        V{"mpirun", "--bind-to", "none", "-np", "2", "/bin/shadegan", "stage-exec", "--run-dir", "/r", "--stage", "m"});
  CHECK(exec::stage_command(o, g.stages[1], "/r") == V{"/bin/shadegan", "stage-exec", "--run-dir", "/r", "--stage", "one"});
  CHECK(exec::stage_command(o, g.stages[2], "/r") == V{"/bin/shadegan", "stage-exec", "--run-dir", "/r", "--stage", "g"});
}

TEST_CASE("a fan-out stage in one process: every missing task, then the stage marker") {
  const std::string run = sg::test::scratch_dir("fanout_here");
  const auto g = sg_test::graph_of(R"(
[[stage]]
name = "fan"
kind = "t_fan"
tasks = 3
fail = ["1"]
)", {}, run + "/p.toml");
  sg::graph::write_snapshot(run, g);
  CHECK_THROWS_WITH(sg::exec::run_stage_here(run, "fan"), doctest::Contains("task 1 fails"));
  CHECK(sg::graph::read_task_marker(run, "fan", 0));
  CHECK_FALSE(sg::graph::read_task_marker(run, "fan", 1));
  CHECK_FALSE(sg::graph::read_marker(run, "fan"));
  // The stage fixed: only task 1 and 2 run again, then the stage marker lists every part.
  const auto g2 = sg_test::graph_of(R"(
[[stage]]
name = "fan"
kind = "t_fan"
tasks = 3
)", {}, run + "/p.toml");
  sg::graph::write_snapshot(run, g2);
  sg_test::run_counts().clear();
  // Other parameters make another fingerprint: every task reruns.
  const auto m = sg::exec::run_stage_here(run, "fan");
  CHECK(sg_test::run_counts()["fan.0"] == 1);
  CHECK(m.outputs.size() == 3);
  CHECK(sg::graph::plan(g2, run).to_run() == 0);
  // Task markers of the current fingerprint are reused: a lost stage marker costs no task.
  sg::graph::remove_if_exists(sg::graph::marker_path(run, "fan"));
  sg_test::run_counts().clear();
  sg::exec::run_stage_here(run, "fan");
  CHECK(sg_test::run_counts().empty());
  CHECK(sg::graph::read_marker(run, "fan"));
}
