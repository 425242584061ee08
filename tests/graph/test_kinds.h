#pragma once
// Stage kinds for the graph and exec tests: "t_gen" writes out.txt from its parameters (and
// counts its runs), "t_fail" always throws. Registered once per test executable.
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/pipeline.h"
#include "core/error.h"
#include "graph/job_graph.h"
#include "graph/kind.h"
#include "graph/snapshot.h"
#include "graph/state_store.h"
#include "scratch.h"

namespace sg_test {

inline std::map<std::string, int>& run_counts() {
  static std::map<std::string, int> c;
  return c;
}

inline void register_test_kinds() {
  static bool done = [] {
    using sg::graph::ParamType;
    sg::graph::KindSpec k;
    k.name = "t_gen";
    k.version = 1;
    k.params = {
        {"label", ParamType::string, nullptr, "required"},
        {"size", ParamType::integer, 4, ""},
        {"scale", ParamType::number, 1.0, ""},
        {"flag", ParamType::boolean, false, ""},
        {"files", ParamType::string_list, nlohmann::json::array(), ""},
        {"src", ParamType::path, "", ""},
        {"salt_each_run", ParamType::boolean, false, "make every run's output differ"},
    };
    k.run = [](const sg::graph::StageContext& ctx) {
      const int n = ++run_counts()[ctx.stage_name];
      std::ofstream out(ctx.stage_dir + "/out.txt");
      out << ctx.params.dump();
      for (const auto& [dep, dir] : ctx.inputs) out << "\n" << dep << ":" << std::filesystem::exists(dir + "/out.txt");
      if (ctx.params["salt_each_run"].get<bool>()) out << "\nrun " << n;
      std::filesystem::create_directories(ctx.stage_dir + "/sub");
      std::ofstream(ctx.stage_dir + "/sub/extra.bin") << std::string(static_cast<size_t>(ctx.params["size"].get<int64_t>()), 'x');
    };
    sg::graph::register_kind(k);
    sg::graph::KindSpec f;
    f.name = "t_fail";
    f.params = {{"label", ParamType::string, "", ""}};
    f.run = [](const sg::graph::StageContext& ctx) {
      std::ofstream(ctx.stage_dir + "/partial.txt") << "half";
      throw sg::StageError("t_fail always fails");
    };
    sg::graph::register_kind(f);
    sg::graph::KindSpec m;
    m.name = "t_mpi";
    m.mpi = true;
    m.params = {};
    m.run = [](const sg::graph::StageContext&) {};
    sg::graph::register_kind(m);
    // "t_fan": a fan-out kind, `tasks` tasks, each writing part-<i>.txt; a task listed in
    // `fail` throws.
    sg::graph::KindSpec fan;
    fan.name = "t_fan";
    fan.params = {{"tasks", ParamType::integer, 2, ""}, {"fail", ParamType::string_list, nlohmann::json::array(), ""}};
    fan.task_count = [](const nlohmann::json& p) { return static_cast<int>(p.at("tasks").get<int64_t>()); };
    fan.check = [](const nlohmann::json& p) {
      if (p.at("tasks").get<int64_t>() < 1)
        throw sg::ConfigError("tasks: expected >= 1, got " + p.at("tasks").dump());
    };
    fan.run = [](const sg::graph::StageContext& ctx) {
      const int i = ctx.task_index;
      if (i < 0 || ctx.task_count != ctx.params["tasks"].get<int64_t>()) throw sg::StageError("t_fan: bad task fields");
      ++run_counts()[ctx.stage_name + "." + std::to_string(i)];
      for (const auto& f : ctx.params["fail"])
        if (f.get<std::string>() == std::to_string(i)) throw sg::StageError("t_fan: task " + std::to_string(i) + " fails");
      std::ofstream(ctx.stage_dir + "/part-" + std::to_string(i) + ".txt") << i;
    };
    sg::graph::register_kind(fan);
    return true;
  }();
  (void)done;
}

inline sg::graph::JobGraph graph_of(const std::string& text, const std::vector<std::string>& sets = {},
                                    const std::string& file = "/jobs/p.toml") {
  register_test_kinds();
  std::vector<sg::config::Override> o;
  for (const auto& s : sets) o.push_back(sg::config::parse_override(s));
  return sg::graph::build_graph(sg::config::parse_pipeline(text, file, o));
}

// What `shadegan stage-exec` does (exec/stage_exec.cpp, tested in tests/exec), with graph's API
// only, so the graph tests need no other library: run a stage of run.toml, write its marker.
inline sg::graph::Marker run_here(const std::string& dir, const std::string& name) {
  using namespace sg::graph;
  const JobGraph g = load_snapshot(dir);
  const Stage& s = g.stages[g.index(name)];
  StageContext ctx;
  ctx.run_dir = dir;
  ctx.stage_name = name;
  ctx.stage_dir = stage_dir(dir, name);
  ctx.params = s.params;
  Marker m;
  for (size_t d : s.deps) {
    const auto dm = read_marker(dir, g.stages[d].name);
    if (!dm || dm->fingerprint != g.stages[d].fingerprint) throw sg::StageError("input not done");
    m.inputs[g.stages[d].name] = {dm->fingerprint, dm->outputs_digest};
    ctx.inputs[g.stages[d].name] = stage_dir(dir, g.stages[d].name);
  }
  std::filesystem::create_directories(ctx.stage_dir);
  std::filesystem::remove(marker_path(dir, name));
  s.kind->run(ctx);
  m.stage = name;
  m.kind = s.kind->name;
  m.kind_version = s.kind->version;
  m.fingerprint = s.fingerprint;
  m.params = s.params;
  m.outputs = list_outputs(ctx.stage_dir);
  m.outputs_digest = outputs_digest(m.outputs);
  write_marker(dir, m);
  std::filesystem::remove(failure_path(dir, name));
  std::filesystem::remove(running_path(dir, name));
  return m;
}

// a -> b -> c, and d on its own.
inline const char* kChain = R"(
[pipeline]
name = "chain"

[[stage]]
name = "a"
kind = "t_gen"
label = "A"

[[stage]]
name = "b"
kind = "t_gen"
after = ["a"]
label = "B"
size = 4

[[stage]]
name = "c"
kind = "t_gen"
after = ["b"]
label = "C"

[[stage]]
name = "d"
kind = "t_gen"
label = "D"
)";

// data -> train -> validate, as a sweep over training seeds and evaluation settings sees a
// pipeline (tests/graph/shared_stages_test.cpp, sweep_runs_test.cpp). "validate" sorts after
// "train", so in a sweep over train.label and validate.size the label varies slowest.
inline const char* kDataTrainValidate = R"(
[pipeline]
name = "p"
[[stage]]
name = "data"
kind = "t_gen"
label = "data"
[[stage]]
name = "train"
kind = "t_gen"
after = ["data"]
label = "seed-0"
[[stage]]
name = "validate"
kind = "t_gen"
after = ["train"]
label = "validate"
)";

}  // namespace sg_test
