#include "graph/job_graph.h"

#include <doctest/doctest.h>

#include "test_kinds.h"

using sg_test::graph_of;

static std::string error_of(const std::string& text, const std::vector<std::string>& sets = {}) {
  try {
    graph_of(text, sets);
    return "";
  } catch (const sg::ConfigError& e) {
    CHECK(e.code == sg::ExitCode::usage);
    return e.what();
  }
}

TEST_CASE("stages are ordered dependencies first, parameters resolved with defaults and types") {
  const auto g = graph_of(R"(
[[stage]]
name = "late"
kind = "t_gen"
after = ["early"]
label = "L"
scale = 2
src = "data/in.txt"
files = ["x", "y"]

[[stage]]
name = "early"
kind = "t_gen"
label = "E"
)");
  REQUIRE(g.stages.size() == 2);
  CHECK(g.stages[0].name == "early");
  CHECK(g.stages[1].name == "late");
  CHECK(g.stages[1].deps == std::vector<size_t>{0});
  const auto& p = g.stages[1].params;
  CHECK(p["label"] == "L");
  CHECK(p["size"] == 4);  // default
  CHECK(p["scale"].is_number_float());  // written as an integer, a number parameter is a float
  CHECK(p["scale"].get<double>() == 2.0);
  CHECK(p["flag"] == false);
  CHECK(p["files"] == nlohmann::json({"x", "y"}));
  CHECK(p["src"] == "/jobs/data/in.txt");  // relative to the pipeline file
  CHECK(g.stages[0].params["src"] == "");  // empty paths stay empty
  CHECK(g.downstream(0) == std::vector<bool>{true, true});
  CHECK(g.downstream(1) == std::vector<bool>{false, true});
}

TEST_CASE("ranks apply to MPI kinds only and default to the pipeline's") {
  const auto g = graph_of("[pipeline]\nranks = 2\n[[stage]]\nname = \"m\"\nkind = \"t_mpi\"\n"
                          "[[stage]]\nname = \"n\"\nkind = \"t_mpi\"\nranks = 1\n"
                          "[[stage]]\nname = \"g\"\nkind = \"t_gen\"\nlabel = \"x\"\n");
  CHECK(g.stages[0].ranks == 2);
  CHECK(g.stages[1].ranks == 1);
  CHECK(g.stages[2].ranks == 1);
  // Results must not depend on the rank count.
  CHECK(g.stages[0].fingerprint == g.stages[1].fingerprint);
}

TEST_CASE("kind and parameter mistakes name file:line and list what is valid") {
  CHECK(error_of("[[stage]]\nname = \"a\"\nkind = \"t_gne\"\nlabel = \"x\"\n")
            .find("/jobs/p.toml:3: a.kind: unknown stage kind 't_gne' (did you mean 't_gen'?); valid: ") == 0);
  CHECK(error_of("[[stage]]\nname = \"a\"\nkind = \"nope\"\n").find("t_fail, t_fan, t_gen") != std::string::npos);
  CHECK(error_of("[[stage]]\nname = \"a\"\nkind = \"t_gen\"\nlabel = \"x\"\nsiez = 3\n") ==
        "/jobs/p.toml:5: a.siez: unknown parameter of kind 't_gen' 'siez' (did you mean 'size'?); valid: files, "
        "flag, label, salt_each_run, scale, size, src");
  CHECK(error_of("[[stage]]\nname = \"a\"\nkind = \"t_gen\"\nlabel = \"x\"\nsize = 2.5\n") ==
        "/jobs/p.toml:5: a.size: expected an integer, got a float");
  CHECK(error_of("[[stage]]\nname = \"a\"\nkind = \"t_gen\"\nlabel = \"x\"\nscale = \"big\"\n") ==
        "/jobs/p.toml:5: a.scale: expected a number, got a string");
  CHECK(error_of("[[stage]]\nname = \"a\"\nkind = \"t_gen\"\nlabel = \"x\"\nfiles = [1]\n") ==
        "/jobs/p.toml:5: a.files: expected an array of strings, got an array");
  CHECK(error_of("[[stage]]\nname = \"a\"\nkind = \"t_gen\"\nlabel = \"x\"\nflag = 1\n") ==
        "/jobs/p.toml:5: a.flag: expected true or false, got an integer");
  CHECK(error_of("[[stage]]\nname = \"a\"\nkind = \"t_gen\"\n") ==
        "/jobs/p.toml:2: a: missing required parameter 'label' of kind 't_gen' (a string: required)");
  CHECK(error_of("[[stage]]\nname = \"a\"\nkind = \"t_gen\"\nlabel = \"x\"\nranks = 2\n")
            .find("/jobs/p.toml:2: a.ranks: kind 't_gen' does not run under MPI") == 0);
  CHECK(error_of("[[stage]]\nname = \"a\"\nkind = \"t_gen\"\nlabel = \"x\"\n", {"a.size=big"}) ==
        "--set a.size: a.size: expected an integer, got a string");
  CHECK(error_of("[[stage]]\nname = \"a\"\nkind = \"t_gen\"\nlabel = \"x\"\n", {"a.sizes=3"})
            .find("--set a.sizes: a.sizes: unknown parameter of kind 't_gen' 'sizes' (did you mean 'size'?)") == 0);
}

TEST_CASE("check_params runs each kind's check and names the stage's file:line, build_graph alone does not") {
  const std::string text = "[[stage]]\nname = \"a\"\nkind = \"t_gen\"\nlabel = \"x\"\n"
                           "[[stage]]\nname = \"f\"\nkind = \"t_fan\"\ntasks = 0\n";
  const sg::graph::JobGraph g = graph_of(text);  // a run's snapshot is loaded like this: no check
  std::string err;
  try {
    sg::graph::check_params(g);
  } catch (const sg::ConfigError& e) {
    err = e.what();
  }
  CHECK(err == "/jobs/p.toml:6: f: tasks: expected >= 1, got 0");  // the stage's name line
  CHECK_NOTHROW(sg::graph::check_params(graph_of(text, {"f.tasks=3"})));
}

TEST_CASE("--set changes the resolved parameter and the fingerprint") {
  const auto base = graph_of(sg_test::kChain);
  const auto set = graph_of(sg_test::kChain, {"b.size=5"});
  CHECK(set.stages[1].params["size"] == 5);
  CHECK(set.stages[0].fingerprint == base.stages[0].fingerprint);
  CHECK(set.stages[1].fingerprint != base.stages[1].fingerprint);
  CHECK(set.stages[2].fingerprint != base.stages[2].fingerprint);  // through its input
  CHECK(set.stages[3].fingerprint == base.stages[3].fingerprint);
}
