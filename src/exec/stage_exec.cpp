#include "exec/stage_exec.h"

#include <unistd.h>

#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "graph/snapshot.h"

namespace fs = std::filesystem;

namespace sg::exec {

PreparedStage prepare_stage(const std::string& run_dir_in, const std::string& stage_name) {
  const std::string run_dir = fs::absolute(run_dir_in).lexically_normal().string();
  PreparedStage p;
  p.graph = graph::load_snapshot(run_dir);
  p.index = p.graph.index(stage_name);
  const graph::Stage& s = p.graph.stages[p.index];
  for (size_t d : s.deps) {
    const graph::Stage& dep = p.graph.stages[d];
    auto m = graph::read_marker(run_dir, dep.name);
    if (!m) throw StageError("stage " + s.name + ": input " + dep.name + " is not done (no marker)");
    if (m->fingerprint != dep.fingerprint)
      throw StageError("stage " + s.name + ": input " + dep.name +
                       " is not done (its marker is for other parameters; rerun it first)");
    p.inputs[dep.name] = {m->fingerprint, m->outputs_digest};
    p.ctx.inputs[dep.name] = graph::stage_dir(run_dir, dep.name);
  }
  p.ctx.run_dir = run_dir;
  p.ctx.stage_name = s.name;
  p.ctx.stage_dir = graph::stage_dir(run_dir, s.name);
  p.ctx.params = s.params;
  p.ctx.ranks = s.ranks;
  p.ctx.log_path = graph::stage_jsonl_path(run_dir, s.name);
  create_dirs(p.ctx.stage_dir);
  create_dirs(graph::state_dir(run_dir));
  p.started = log::now_iso8601();
  p.t0 = std::chrono::steady_clock::now();
  return p;
}

void begin_stage(const PreparedStage& p) {
  graph::write_running(p.ctx.run_dir, p.ctx.stage_name);
  graph::remove_if_exists(graph::marker_path(p.ctx.run_dir, p.ctx.stage_name));
}

graph::Marker finish_stage(const PreparedStage& p, const std::string& job_id) {
  const graph::Stage& s = p.stage();
  graph::Marker m;
  m.stage = s.name;
  m.kind = s.kind->name;
  m.kind_version = s.kind->version;
  m.fingerprint = s.fingerprint;
  m.params = s.params;
  m.inputs = p.inputs;
  m.outputs = graph::list_outputs(p.ctx.stage_dir);
  m.outputs_digest = graph::outputs_digest(m.outputs);
  m.started = p.started;
  m.ended = log::now_iso8601();
  m.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - p.t0).count();
  m.host = graph::this_host();
  m.pid = static_cast<int>(::getpid());
  m.ranks = p.ctx.ranks;
  m.job_id = job_id;
  graph::write_marker(p.ctx.run_dir, m);  // the stage is done from this rename on
  graph::remove_if_exists(graph::failure_path(p.ctx.run_dir, s.name));
  graph::remove_if_exists(graph::running_path(p.ctx.run_dir, s.name));
  return m;
}

void abandon_stage(const PreparedStage& p) {
  try {
    graph::remove_if_exists(graph::running_path(p.ctx.run_dir, p.ctx.stage_name));
  } catch (const Error&) {
    // the failure being reported matters more than this file
  }
}

graph::Marker run_stage_here(const std::string& run_dir, const std::string& stage_name) {
  PreparedStage p = prepare_stage(run_dir, stage_name);
  const graph::KindSpec& kind = *p.stage().kind;
  if (!kind.run) throw StageError("kind '" + kind.name + "' has no implementation in this binary");
  begin_stage(p);
  try {
    kind.run(p.ctx);
  } catch (...) {
    abandon_stage(p);
    throw;
  }
  return finish_stage(p);
}

}  // namespace sg::exec
