#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <fstream>
#include <map>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/signals.h"
#include "core/subprocess.h"
#include "core/text.h"
#include "exec/executor.h"
#include "exec/stage_exec.h"
#include "graph/state_store.h"
#include "graph/task_markers.h"

namespace sg::exec {

LocalExecutor::LocalExecutor(LocalOptions options) : opt_(std::move(options)) {
  opt_.jobs = std::max(1, opt_.jobs);
}

std::vector<std::string> stage_command(const LocalOptions& o, const graph::Stage& s,
                                       const std::string& run_dir, int task) {
  std::vector<std::string> argv;
  // One rank needs no launcher: MPI's singleton init gives the same program size 1.
  // --bind-to none: Open MPI binds each rank to one core when np <= 2, so two ranks on a
  // 32-core machine ran one thread each; unbound, mpi::rank_threads divides the CPUs this run
  // may use among the ranks sharing them.
  if (s.kind->mpi && s.ranks > 1) argv = {o.mpirun, "--bind-to", "none", "-np", std::to_string(s.ranks)};
  for (const auto& a : {o.exe, std::string("stage-exec"), std::string("--run-dir"), run_dir,
                        std::string("--stage"), s.name})
    argv.push_back(a);
  if (task >= 0) {
    argv.push_back("--task");
    argv.push_back(std::to_string(task));
  }
  return argv;
}

namespace {

enum class St { done, waiting, running, succeeded, failed, preempted, skipped };

// One process: a whole stage (task -1) or one task of a fan-out stage.
struct Running {
  size_t index;
  int task;
  int slots;
  std::chrono::steady_clock::time_point t0;
};

// Per stage while it runs: the tasks still to start and how its started ones ended.
struct StageRun {
  std::deque<int> pending;
  int running = 0;
  int failed = 0, preempted = 0;
  int exit_code = 0;
  std::string message;
  std::chrono::steady_clock::time_point t0;
};

// "4.2 s" for short stages, "1:02:03" for long ones.
std::string duration_text(double secs) {
  return secs < 60 ? fmt::format("{:.1f} s", secs) : format_duration(secs);
}

void append_line(const std::string& path, const std::string& line) {
  std::ofstream out(path, std::ios::app);
  out << line << '\n';
  if (!out) throw IoError("cannot write '" + path + "'");
}

}  // namespace

ExecSummary LocalExecutor::execute(const graph::JobGraph& g, const graph::Plan& plan,
                                   const std::string& run_dir) {
  const size_t n = g.stages.size();
  std::vector<St> st(n);
  std::vector<StageRun> sr(n);
  for (size_t i = 0; i < n; ++i) st[i] = plan.stages[i].run ? St::waiting : St::done;
  // --force: the stage's finished tasks count no more.
  for (size_t i = 0; i < n; ++i)
    if (plan.stages[i].run && plan.stages[i].forced) graph::clear_tasks(run_dir, g.stages[i].name);
  const size_t total = plan.to_run();
  size_t started = 0, finished = 0;
  int free_slots = opt_.jobs;
  std::map<int, Running> running;
  ExecSummary summary;

  std::vector<std::pair<std::string, std::string>> env;
  if (::geteuid() == 0)  // Open MPI refuses root without these (platform-notes.md)
    env = {{"OMPI_ALLOW_RUN_AS_ROOT", "1"}, {"OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"}};

  auto ready = [&](size_t i) {
    for (size_t d : g.stages[i].deps)
      if (st[d] != St::done && st[d] != St::succeeded) return false;
    return true;
  };
  auto slots_of = [&](size_t i) { return g.stages[i].kind->mpi ? std::min(g.stages[i].ranks, opt_.jobs) : 1; };

  // A stage becomes ready: decide its processes. Fan-out stages: one per task not done (its
  // inputs are final now, so the task markers can be judged), or one that only writes the
  // stage marker when every task is already done.
  auto open_stage = [&](size_t i) {
    const graph::Stage& s = g.stages[i];
    StageRun& r = sr[i];
    r.t0 = std::chrono::steady_clock::now();
    if (graph::is_fanout(s)) {
      const auto missing = graph::missing_tasks(graph::tasks_done(g, i, run_dir));
      r.pending.assign(missing.begin(), missing.end());
      if (r.pending.empty()) r.pending.push_back(-1);
      const int count = graph::stage_task_count(s);
      log::info("[{}/{}] {} ({}): {} of {} tasks to run", started + 1, total, s.name, s.kind->name,
                missing.size(), count);
    } else {
      r.pending.push_back(-1);
    }
    st[i] = St::running;
    ++started;
  };

  auto start = [&](size_t i) {
    const graph::Stage& s = g.stages[i];
    StageRun& r = sr[i];
    const int task = r.pending.front();
    r.pending.pop_front();
    const std::string log_path =
        task >= 0 ? graph::task_log_path(run_dir, s.name, task) : graph::stage_log_path(run_dir, s.name);
    create_dirs(run_dir + "/logs");
    append_line(log_path, graph::log_attempt_header(s.name, log::now_iso8601()));
    ProcessSpec spec;
    spec.argv = stage_command(opt_, s, run_dir, task);
    spec.env = env;
    spec.output_path = log_path;
    const int pid = spawn(spec);
    running[pid] = {i, task, slots_of(i), std::chrono::steady_clock::now()};
    free_slots -= slots_of(i);
    ++r.running;
    if (task < 0)
      log::info("[{}/{}] {} ({}{}) started", started, total, s.name, s.kind->name,
                s.kind->mpi ? ", " + std::to_string(s.ranks) + " ranks" : "");
    log::event("stage_start", {{"stage", s.name}, {"task", task}, {"pid", pid}, {"argv", spec.argv}});
  };

  auto skip_downstream = [&](size_t i, const char* why) {
    const auto down = g.downstream(i);
    for (size_t j = 0; j < n; ++j)
      if (down[j] && st[j] == St::waiting) {
        st[j] = St::skipped;
        summary.skipped.push_back(g.stages[j].name);
        log::warn("{} will not run: input {} {}", g.stages[j].name, g.stages[i].name, why);
      }
  };

  auto fail = [&](size_t i, int code, const std::string& message, double secs, const std::string& log_path) {
    const graph::Stage& s = g.stages[i];
    st[i] = St::failed;
    summary.failed.push_back(s.name);
    // A failed task already left its own failure note (with its log's tail); status shows it.
    if (!graph::is_fanout(s) || sr[i].failed == 0) graph::write_failure(run_dir, s.name, code, message);
    std::string tail;
    for (const auto& l : graph::log_tail(log_path, 10)) tail += "\n  | " + l;
    log::error("{} failed after {}: {}; log {}{}", s.name, duration_text(secs), message, log_path, tail);
    skip_downstream(i, "failed");
  };

  // Every process of stage i has ended: decide what the stage is.
  auto close_stage = [&](size_t i, const std::string& last_log) {
    const graph::Stage& s = g.stages[i];
    StageRun& r = sr[i];
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - r.t0).count();
    ++finished;
    if (r.failed > 0) return fail(i, r.exit_code, r.message, secs, last_log);
    if (r.preempted > 0) {
      st[i] = St::preempted;
      summary.preempted.push_back(s.name);
      log::warn("{} preempted after {}: it saved its work; rerun to resume", s.name, duration_text(secs));
      skip_downstream(i, "was preempted");
      return;
    }
    // Trust the marker, not the exit code: the stage is done only if it says so.
    std::optional<graph::Marker> m;
    try {
      m = graph::read_marker(run_dir, s.name);
    } catch (const FormatError&) {
    }
    if (!m || m->fingerprint != s.fingerprint)
      return fail(i, 1, "exited 0 but left no done marker for fingerprint " + s.fingerprint, secs, last_log);
    st[i] = St::succeeded;
    summary.succeeded.push_back(s.name);
    log::info("[{}/{}] {} done in {} ({} of {} finished, {} left)", finished, total, s.name, duration_text(secs),
              finished, total, total - finished);
  };

  // Ctrl-C or SIGTERM (or SIGUSR1/2) to `run`: every running stage is asked to save its work
  // and stop (SIGUSR1 to its process group: mpirun forwards it to the ranks, and training
  // checkpoints at the end of its iteration), nothing new starts, and `run` waits for them and
  // exits 75 like a preempted stage. A second signal kills them (SIGTERM to each group). Without
  // this, the default action killed `run`, its children got SIGTERM from the kernel, and mpirun
  // answered SIGTERM by killing the ranks within a second, mid-step: the work since the last
  // checkpoint was lost.
  install_stop_handlers();
  int stops_forwarded = 0;
  auto forward_stop = [&] {
    const int count = stop_count();
    if (count == stops_forwarded) return;
    if (stops_forwarded == 0) {
      log::warn("stop requested (signal {}): asking {} running process(es) to save their work and stop; "
                "signal again to kill them", stop_signal(), running.size());
      for (size_t i = 0; i < n; ++i)
        if (st[i] == St::running && !sr[i].pending.empty()) {
          sr[i].pending.clear();
          ++sr[i].preempted;  // its unstarted tasks are left for the next run
        }
    }
    const int signo = stops_forwarded == 0 ? SIGUSR1 : SIGTERM;
    if (stops_forwarded > 0) log::warn("second stop signal: killing {} running process(es)", running.size());
    for (const auto& [pid, r] : running) signal_group(pid, signo);
    stops_forwarded = count;
  };

  for (;;) {
    if (!stop_requested())
      for (size_t i = 0; i < n; ++i)
        if (st[i] == St::waiting && ready(i)) open_stage(i);
    // Start processes in stage order while slots last.
    for (size_t i = 0; i < n; ++i)
      while (!stop_requested() && st[i] == St::running && !sr[i].pending.empty() &&
             slots_of(i) <= free_slots && sr[i].failed == 0 && sr[i].preempted == 0)
        start(i);
    if (running.empty()) break;
    auto e = wait_any_polling(forward_stop);
    if (!e) break;
    auto it = running.find(e->pid);
    if (it == running.end()) continue;  // not one of ours
    const Running r = it->second;
    running.erase(it);
    free_slots += r.slots;
    const graph::Stage& s = g.stages[r.index];
    StageRun& stage_run = sr[r.index];
    --stage_run.running;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - r.t0).count();
    const std::string log_path =
        r.task >= 0 ? graph::task_log_path(run_dir, s.name, r.task) : graph::stage_log_path(run_dir, s.name);
    log::event("stage_end", {{"stage", s.name}, {"task", r.task}, {"exit_code", e->code}, {"duration_s", secs}});
    // After a stop request, a process that ended on the signal was interrupted, not broken:
    // its finished work (checkpoints, finished tasks) stands and the next run resumes it.
    const bool stopped = stops_forwarded > 0 && e->code != 0;
    if (e->code == to_int(ExitCode::preempted) || stopped) {
      ++stage_run.preempted;
      record_exit(run_dir, s.name, r.task, to_int(ExitCode::preempted), "preempted");
    } else if (e->code != 0) {
      ++stage_run.failed;
      stage_run.exit_code = e->code;
      stage_run.message = (r.task >= 0 ? "task " + std::to_string(r.task) + ": " : std::string()) +
                          (e->signal ? "killed by signal " + std::to_string(e->signal)
                                     : "exit code " + std::to_string(e->code));
      if (r.task >= 0) graph::write_task_failure(run_dir, s.name, r.task, e->code, stage_run.message);
    } else if (r.task >= 0) {
      log::info("{} task {} done in {} ({} tasks left)", s.name, r.task, duration_text(secs),
                stage_run.pending.size() + static_cast<size_t>(stage_run.running));
    }
    // A failed or preempted task stops the stage's unstarted tasks; the running ones finish.
    if (stage_run.failed > 0 || stage_run.preempted > 0) stage_run.pending.clear();
    if (stage_run.running == 0 && stage_run.pending.empty()) {
      // The last task normally wrote the stage marker; if two finished at once, make sure.
      if (graph::is_fanout(s) && stage_run.failed == 0 && stage_run.preempted == 0) {
        try {
          PreparedStage p = prepare_stage(run_dir, s.name);
          finalize_fanout(p);
        } catch (const Error& err) {
          log::warn("{}: {}", s.name, err.what());
        }
      }
      close_stage(r.index, log_path);
    }
  }
  summary.stopped = stop_requested();
  // A stop can leave a stage opened whose processes never started (no free slot): it is
  // preempted too, and says so, rather than vanishing from the summary.
  for (size_t i = 0; i < n; ++i)
    if (st[i] == St::running && sr[i].running == 0) close_stage(i, graph::stage_log_path(run_dir, g.stages[i].name));
  for (size_t i = 0; i < n; ++i)
    if (st[i] == St::waiting) {  // after a stop request, or if the graph was inconsistent
      st[i] = St::skipped;
      summary.skipped.push_back(g.stages[i].name);
    }
  return summary;
}

}  // namespace sg::exec
