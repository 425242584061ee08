// shadegan run: plan a pipeline against its run directory and run what is stale.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "app/command.h"
#include "config/pipeline.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "core/orphan_temps.h"
#include "core/run_lock.h"
#include "core/text.h"
#include "exec/executor.h"
#include "exec/slurm_cli.h"
#include "exec/slurm_status.h"
#include "graph/planner.h"
#include "graph/snapshot.h"
#include "graph/state_store.h"

namespace fs = std::filesystem;

namespace {

struct RunArgs {
  std::string pipeline;
  std::string run_dir;
  bool dry_run = false;
  bool explain = false;
  bool verify = false;
  bool break_lock = false;
  std::vector<std::string> force;
  std::vector<std::string> sets;
  int jobs = 1;
};

void print_plan(const sg::graph::JobGraph& g, const sg::graph::Plan& p, bool explain) {
  size_t width = 0;
  for (const auto& s : g.stages) width = std::max(width, s.name.size());
  for (size_t i = 0; i < g.stages.size(); ++i) {
    const auto& sp = p.stages[i];
    std::string line = fmt::format("  {:<{}}  {}", g.stages[i].name, width, sp.run ? "run" : "up to date");
    if (sp.run && explain) line += ": " + sg::join(sp.reasons, "; ");
    std::printf("%s\n", line.c_str());
  }
  std::fflush(stdout);
}

// A stage of this run queued or running on Slurm (submitted earlier from here or from a login
// node sharing the file system) would get a local twin writing the same directory, and the
// liveness check above only sees this host's processes. The queue is asked once; when it cannot
// be asked (no Slurm client here), that is said and the run goes on.
void refuse_slurm_twin(const sg::graph::JobGraph& g, const std::string& run_dir) {
  using namespace sg;
  if (!exec::has_slurm_jobs(g, run_dir)) return;
  std::vector<exec::QueuedJob> queue;
  try {
    exec::SlurmCli cli;
    queue = cli.squeue();
  } catch (const Error& e) {
    log::warn("{} has stages submitted to Slurm, but the queue cannot be asked from here ({}); make sure none "
              "of its jobs is still queued or running", run_dir, e.what());
    return;
  }
  const auto busy = exec::stages_on_slurm(g, run_dir, queue, false);
  if (busy.empty()) return;
  throw BusyError("stages of " + run_dir + " are queued or running on Slurm (" + join(busy, "; ") +
                  "); running them here too would make two writers of one stage directory. Wait for the jobs "
                  "to end, or cancel them (shadegan cancel " + shell_quote(run_dir) + ") and run again");
}

int run(const RunArgs& a) {
  using namespace sg;
  std::vector<config::Override> overrides;
  for (const auto& s : a.sets) overrides.push_back(config::parse_override(s));
  const config::Pipeline pipeline = config::load_pipeline(a.pipeline, overrides);
  const graph::JobGraph g = graph::build_graph(pipeline);
  graph::check_params(g);
  if (a.jobs < 1) throw ConfigError("-j " + std::to_string(a.jobs) + ": expected at least 1");
  const std::string run_dir =
      fs::absolute(a.run_dir.empty() ? "runs/" + g.name : a.run_dir).lexically_normal().string();
  graph::PlanOptions opt;
  opt.force = a.force;
  opt.verify = a.verify;

  if (a.dry_run) {
    // Reads only: no lock, so it also works while another run is going on.
    const graph::Plan p = graph::plan(g, run_dir, opt);
    std::printf("%s: %zu of %zu stages would run (run directory %s)\n", g.name.c_str(), p.to_run(),
                g.stages.size(), run_dir.c_str());
    print_plan(g, p, a.explain);
    return 0;
  }

  create_dirs(graph::state_dir(run_dir));
  RunLock lock(graph::lock_path(run_dir), a.break_lock);
  log::attach_jsonl(graph::run_jsonl_path(run_dir));
  // A stage-exec that outlived a killed orchestrator (say, a trainer finishing its checkpoint
  // after SIGTERM) must not get a twin writing the same directory.
  for (const auto& s : g.stages)
    if (auto r = graph::read_running(run_dir, s.name); r && graph::running_alive(*r))
      throw BusyError("stage " + s.name + " of " + run_dir + " is still running (pid " +
                      std::to_string(r->value("pid", 0)) + ", left by an earlier run); wait for it to end or stop it");
  refuse_slurm_twin(g, run_dir);
  // Nothing else writes this run now (lock, no live stage-exec, no queued job): temporaries
  // whose writer died (kill -9 mid-write) are collected, each removal logged.
  collect_orphan_temps(run_dir);
  const graph::Plan p = graph::plan(g, run_dir, opt);
  log::event("plan", {{"pipeline", fs::absolute(a.pipeline).string()}, {"run_dir", run_dir},
                      {"to_run", p.to_run()}, {"stages", g.stages.size()}});
  if (a.explain) {
    std::printf("%s: %zu of %zu stages to run (run directory %s)\n", g.name.c_str(), p.to_run(),
                g.stages.size(), run_dir.c_str());
    print_plan(g, p, true);
  }
  if (p.to_run() == 0) {
    graph::write_snapshot(run_dir, g);  // rewrites nothing when the resolved pipeline is the same
    log::info("nothing to do: all {} stages of {} are up to date ({})", g.stages.size(), g.name, run_dir);
    return 0;
  }
  graph::write_snapshot(run_dir, g);
  log::info("{}: running {} of {} stages in {} (-j {})", g.name, p.to_run(), g.stages.size(), run_dir, a.jobs);
  exec::LocalOptions lo;
  lo.jobs = a.jobs;
  lo.exe = app::self_exe();
  exec::LocalExecutor executor(lo);
  const exec::ExecSummary r = executor.execute(g, p, run_dir);
  log::event("run_end", {{"succeeded", r.succeeded}, {"failed", r.failed}, {"skipped", r.skipped},
                         {"preempted", r.preempted}});
  if (r.ok()) {
    log::info("{}: all {} stages done ({} ran now)", g.name, g.stages.size(), r.succeeded.size());
    return 0;
  }
  if (r.failed.empty() && (!r.preempted.empty() || r.stopped)) {
    log::warn("{}: {} stage(s) preempted ({}) after saving their work{}; rerun to resume", g.name,
              r.preempted.size(), join(r.preempted, ", "),
              r.skipped.empty() ? "" : ", " + std::to_string(r.skipped.size()) + " not run yet (" + join(r.skipped, ", ") + ")");
    return to_int(ExitCode::preempted);
  }
  log::error("{}: {} stage(s) failed ({}){}; rerun to resume; `shadegan status {}` shows details",
             g.name, r.failed.size(), join(r.failed, ", "),
             r.skipped.empty() ? "" : ", " + std::to_string(r.skipped.size()) + " not run (" + join(r.skipped, ", ") + ")",
             run_dir);
  return to_int(ExitCode::failed);
}

const bool registered = sg::app::register_command(
    {"run", "Run a pipeline's stale stages in dependency order (resumable; see --explain)",
     [](CLI::App& sub) -> sg::app::Runner {
       auto a = std::make_shared<RunArgs>();
       sub.add_option("pipeline", a->pipeline, "Pipeline file (jobs/*.toml)")->required();
       sub.add_option("--run-dir", a->run_dir, "Run directory (default: runs/<pipeline name>)");
       sub.add_flag("-n,--dry-run", a->dry_run, "Show what would run; change nothing");
       sub.add_flag("--explain", a->explain, "Say for every stage why it runs or that it is up to date");
       sub.add_option("--force", a->force, "Rerun this stage and everything after it (repeatable)")
           ->allow_extra_args(false);
       sub.add_option("--set", a->sets, "Override a parameter: stage.key=value (repeatable)")
           ->allow_extra_args(false);
       sub.add_option("-j,--jobs", a->jobs, "Stages run at once; an MPI stage takes one slot per rank (default 1)");
       sub.add_flag("--verify", a->verify, "Re-hash recorded outputs instead of trusting their sizes");
       sub.add_flag("--break-lock", a->break_lock, "The run lock names a process on another host that is gone: take it over (see README, cluster file systems)");
       return [a] { return run(*a); };
     }});

}  // namespace
