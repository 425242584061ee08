#include "exec/stage_exec.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>

#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_file.h"
#include "core/log.h"
#include "core/orphan_temps.h"
#include "graph/snapshot.h"
#include "graph/task_markers.h"

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
  const std::string source = graph::snapshot_source(run_dir);
  p.ctx.pipeline_dir = source.empty() ? fs::current_path().string() : fs::path(source).parent_path().string();
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
  // What an earlier attempt killed mid-write left (kill -9, OOM): this stage is the directory's
  // only writer now (run lock, no live attempt, no queued Slurm job of it), and its ranks start
  // writing only after this (stage-exec's barrier).
  collect_orphan_temps(p.ctx.stage_dir);
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
  graph::remove_if_exists(graph::preempted_path(p.ctx.run_dir, s.name));
  return m;
}

void begin_task(const PreparedStage& p, int task) {
  create_dirs(graph::tasks_dir(p.ctx.run_dir, p.ctx.stage_name));
  write_json_atomic(graph::task_running_path(p.ctx.run_dir, p.ctx.stage_name, task),
                    {{"stage", p.ctx.stage_name}, {"task", task}, {"pid", ::getpid()},
                     {"host", graph::this_host()}, {"started", log::now_iso8601()}});
  graph::remove_if_exists(graph::marker_path(p.ctx.run_dir, p.ctx.stage_name));
}

void finish_task(const PreparedStage& p, int task, const std::string& job_id) {
  graph::TaskMarker m;
  m.task = task;
  m.fingerprint = p.stage().fingerprint;
  m.inputs = p.inputs;
  m.started = p.started;
  m.ended = log::now_iso8601();
  m.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - p.t0).count();
  m.host = graph::this_host();
  m.job_id = job_id;
  graph::write_task_marker(p.ctx.run_dir, p.ctx.stage_name, m);
  graph::remove_if_exists(graph::task_failure_path(p.ctx.run_dir, p.ctx.stage_name, task));
  graph::remove_if_exists(graph::task_running_path(p.ctx.run_dir, p.ctx.stage_name, task));
}

void abandon_task(const PreparedStage& p, int task) {
  try {
    graph::remove_if_exists(graph::task_running_path(p.ctx.run_dir, p.ctx.stage_name, task));
  } catch (const Error&) {
  }
}

namespace {

// flock() held for a scope: the one wrapper of the call. Blocks until granted.
struct FileLock {
  int fd = -1;
  explicit FileLock(const std::string& path) {
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw_errno("cannot open lock", path);
    while (::flock(fd, LOCK_EX) != 0)
      if (errno != EINTR) throw_errno("cannot lock", path);
  }
  ~FileLock() { ::close(fd); }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
};

}  // namespace

bool finalize_fanout(const PreparedStage& p, const std::string& job_id) {
  const std::string dir = graph::tasks_dir(p.ctx.run_dir, p.ctx.stage_name);
  create_dirs(dir);
  FileLock lock(dir + "/lock");
  const auto done = graph::tasks_done(p.graph, p.index, p.ctx.run_dir);
  for (bool d : done)
    if (!d) return false;
  auto m = graph::read_marker(p.ctx.run_dir, p.ctx.stage_name);
  if (m && m->fingerprint == p.stage().fingerprint) return true;
  finish_stage(p, job_id);
  return true;
}

namespace {

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// The preempted note was written by this attempt's stage (not by an earlier run or restart).
bool preempted_by_this_attempt(const std::string& run_dir, const std::string& stage) {
  const auto note = graph::read_preempted(run_dir, stage);
  if (!note) return false;
  return note->value("job_id", std::string()) == env_or_empty("SLURM_JOB_ID") &&
         note->value("slurm_restart_count", std::string()) == env_or_empty("SLURM_RESTART_COUNT");
}

// Waits until this attempt's stage has reported preemption (true) or its ranks are gone or the
// time is up (false).
bool wait_for_preempted(const std::string& run_dir, const std::string& stage, int task, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  for (;;) {
    if (preempted_by_this_attempt(run_dir, stage)) return true;
    const std::string running = task >= 0 ? graph::task_running_path(run_dir, stage, task)
                                          : graph::running_path(run_dir, stage);
    const auto note = graph::read_state_note(running);
    const bool alive = note && graph::running_alive(*note);
    if (!alive || std::chrono::steady_clock::now() >= deadline) return preempted_by_this_attempt(run_dir, stage);
    ::usleep(200 * 1000);
  }
}

}  // namespace

int record_exit(const std::string& run_dir, const std::string& stage, int task, int exit_code,
                const std::string& message, int wait_seconds) {
  if (exit_code == 0) return 0;
  const int preempted = to_int(ExitCode::preempted);
  if (exit_code == preempted) {
    graph::write_preempted(run_dir, stage, task, exit_code);
    return preempted;
  }
  if (wait_seconds > 0 && wait_for_preempted(run_dir, stage, task, wait_seconds)) {
    log::warn("stage {}: the launcher exited {}, but the stage saved its work and reported preemption "
              "(a signal to every process of the job, as Slurm preempts): recorded as preempted",
              stage, exit_code);
    return preempted;
  }
  if (task >= 0) {
    graph::write_task_failure(run_dir, stage, task, exit_code, message);
    graph::remove_if_exists(graph::task_running_path(run_dir, stage, task));
  } else {
    graph::write_failure(run_dir, stage, exit_code, message);
    graph::remove_if_exists(graph::running_path(run_dir, stage));
  }
  return exit_code;
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
  if (graph::is_fanout(p.stage())) {
    p.ctx.task_count = graph::stage_task_count(p.stage());
    for (int t : graph::missing_tasks(graph::tasks_done(p.graph, p.index, p.ctx.run_dir))) {
      p.ctx.task_index = t;
      begin_task(p, t);
      try {
        kind.run(p.ctx);
      } catch (...) {
        abandon_task(p, t);
        throw;
      }
      finish_task(p, t);
    }
    finalize_fanout(p);
    return *graph::read_marker(p.ctx.run_dir, stage_name);
  }
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
