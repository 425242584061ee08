#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/subprocess.h"
#include "core/text.h"
#include "exec/executor.h"
#include "graph/state_store.h"

namespace sg::exec {

LocalExecutor::LocalExecutor(LocalOptions options) : opt_(std::move(options)) {
  opt_.jobs = std::max(1, opt_.jobs);
}

std::vector<std::string> stage_command(const LocalOptions& o, const graph::Stage& s,
                                       const std::string& run_dir) {
  std::vector<std::string> argv;
  // One rank needs no launcher: MPI's singleton init gives the same program size 1.
  if (s.kind->mpi && s.ranks > 1) argv = {o.mpirun, "-np", std::to_string(s.ranks)};
  for (const auto& a : {o.exe, std::string("stage-exec"), std::string("--run-dir"), run_dir,
                        std::string("--stage"), s.name})
    argv.push_back(a);
  return argv;
}

namespace {

enum class St { done, waiting, running, succeeded, failed, skipped };

struct Running {
  size_t index;
  int slots;
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
  for (size_t i = 0; i < n; ++i) st[i] = plan.stages[i].run ? St::waiting : St::done;
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

  auto start = [&](size_t i) {
    const graph::Stage& s = g.stages[i];
    const std::string log_path = graph::stage_log_path(run_dir, s.name);
    create_dirs(run_dir + "/logs");
    append_line(log_path, graph::log_attempt_header(s.name, log::now_iso8601()));
    ProcessSpec spec;
    spec.argv = stage_command(opt_, s, run_dir);
    spec.env = env;
    spec.output_path = log_path;
    const int pid = spawn(spec);
    running[pid] = {i, slots_of(i), std::chrono::steady_clock::now()};
    free_slots -= slots_of(i);
    st[i] = St::running;
    ++started;
    log::info("[{}/{}] {} ({}{}) started", started, total, s.name, s.kind->name,
              s.kind->mpi ? ", " + std::to_string(s.ranks) + " ranks" : "");
    log::event("stage_start", {{"stage", s.name}, {"pid", pid}, {"argv", spec.argv}});
  };

  auto fail = [&](size_t i, int code, const std::string& message, double secs) {
    const graph::Stage& s = g.stages[i];
    st[i] = St::failed;
    summary.failed.push_back(s.name);
    graph::write_failure(run_dir, s.name, code, message);
    std::string tail;
    for (const auto& l : graph::log_tail(graph::stage_log_path(run_dir, s.name), 10)) tail += "\n  | " + l;
    log::error("{} failed after {}: {}; log {}{}", s.name, duration_text(secs), message,
               graph::stage_log_path(run_dir, s.name), tail);
    const auto down = g.downstream(i);
    for (size_t j = 0; j < n; ++j)
      if (down[j] && st[j] == St::waiting) {
        st[j] = St::skipped;
        summary.skipped.push_back(g.stages[j].name);
        log::warn("{} will not run: input {} failed", g.stages[j].name, s.name);
      }
  };

  for (;;) {
    for (size_t i = 0; i < n; ++i)
      if (st[i] == St::waiting && ready(i) && slots_of(i) <= free_slots) start(i);
    if (running.empty()) break;
    auto e = wait_any(true);
    if (!e) break;
    auto it = running.find(e->pid);
    if (it == running.end()) continue;  // not one of ours
    const Running r = it->second;
    running.erase(it);
    free_slots += r.slots;
    ++finished;
    const graph::Stage& s = g.stages[r.index];
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - r.t0).count();
    log::event("stage_end", {{"stage", s.name}, {"exit_code", e->code}, {"duration_s", secs}});
    if (e->code != 0) {
      fail(r.index, e->code,
           e->signal ? "killed by signal " + std::to_string(e->signal) : "exit code " + std::to_string(e->code),
           secs);
      continue;
    }
    // Trust the marker, not the exit code: the stage is done only if it says so.
    std::optional<graph::Marker> m;
    try {
      m = graph::read_marker(run_dir, s.name);
    } catch (const FormatError&) {
    }
    if (!m || m->fingerprint != s.fingerprint) {
      fail(r.index, 1, "exited 0 but left no done marker for fingerprint " + s.fingerprint, secs);
      continue;
    }
    st[r.index] = St::succeeded;
    summary.succeeded.push_back(s.name);
    log::info("[{}/{}] {} done in {} ({} of {} finished, {} left)", finished, total, s.name,
              duration_text(secs), finished, total, total - finished);
  }
  for (size_t i = 0; i < n; ++i)
    if (st[i] == St::waiting) {  // unreachable unless the graph was inconsistent
      st[i] = St::skipped;
      summary.skipped.push_back(g.stages[i].name);
    }
  return summary;
}

}  // namespace sg::exec
