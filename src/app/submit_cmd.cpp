// shadegan submit: plan a pipeline against its run directory and queue its stale stages on
// Slurm (exec/slurm_executor.h); --dry-run prints the scripts and the dependency plan and
// touches nothing (no scheduler call, no file).
#include <cstdio>
#include <filesystem>
#include <memory>

#include "app/command.h"
#include "config/pipeline.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "core/run_lock.h"
#include "exec/slurm_executor.h"
#include "graph/planner.h"
#include "graph/snapshot.h"
#include "graph/state_store.h"

namespace fs = std::filesystem;

namespace {

struct SubmitArgs {
  std::string pipeline, run_dir, profile;
  bool dry_run = false;
  bool break_lock = false;
  std::vector<std::string> force, sets;
};

int submit(const SubmitArgs& a) {
  using namespace sg;
  std::vector<config::Override> overrides;
  for (const auto& s : a.sets) overrides.push_back(config::parse_override(s));
  const graph::JobGraph g = graph::build_graph(config::load_pipeline(a.pipeline, overrides));
  graph::check_params(g);
  const std::string run_dir =
      fs::absolute(a.run_dir.empty() ? "runs/" + g.name : a.run_dir).lexically_normal().string();
  exec::SlurmOptions so;
  so.exe = app::self_exe();
  so.profile = exec::load_slurm_profile(a.profile.empty() ? exec::default_profile_path(so.exe) : a.profile);
  so.dry_run = a.dry_run;
  graph::PlanOptions po;
  po.force = a.force;

  std::unique_ptr<RunLock> lock;
  if (!a.dry_run) {
    create_dirs(graph::state_dir(run_dir));
    lock = std::make_unique<RunLock>(graph::lock_path(run_dir), a.break_lock);  // two submits never race
    log::attach_jsonl(graph::run_jsonl_path(run_dir));
  }
  exec::SlurmExecutor ex(so);
  ex.refuse_stale_jobs(g, run_dir);
  const graph::Plan p = graph::plan(g, run_dir, po);
  if (!a.dry_run) graph::write_snapshot(run_dir, g);  // the jobs rebuild their graph from it
  const auto jobs = ex.submit(g, p, run_dir);
  size_t n = 0;
  for (const auto& j : jobs) n += j.submitted;
  std::printf("%s: %s %zu job(s) for %zu of %zu stages (run directory %s, profile %s)\n", g.name.c_str(),
              a.dry_run ? "would submit" : "submitted", n, p.to_run(), g.stages.size(), run_dir.c_str(),
              so.profile.file.c_str());
  std::printf("%s", exec::describe_jobs(jobs, a.dry_run).c_str());
  std::fflush(stdout);
  if (!a.dry_run) log::event("submit", {{"jobs", n}, {"scheduler_calls", ex.cli().calls}});
  return 0;
}

const bool registered = sg::app::register_command(
    {"submit", "Queue a pipeline's stale stages on Slurm (sbatch with dependencies, arrays for fan-out stages)",
     [](CLI::App& sub) -> sg::app::Runner {
       auto a = std::make_shared<SubmitArgs>();
       sub.add_option("pipeline", a->pipeline, "Pipeline file (jobs/*.toml)")->required();
       sub.add_option("--run-dir", a->run_dir, "Run directory (default: runs/<pipeline name>)");
       sub.add_option("--profile", a->profile, "Site profile (default: slurm/local.toml)");
       sub.add_flag("-n,--dry-run", a->dry_run, "Print the scripts and the dependency plan; submit nothing");
       sub.add_flag("--break-lock", a->break_lock, "The run lock names a process on another host that is gone: take it over (see README, cluster file systems)");
       sub.add_option("--force", a->force, "Rerun this stage and everything after it (repeatable)")
           ->allow_extra_args(false);
       sub.add_option("--set", a->sets, "Override a parameter: stage.key=value (repeatable)")->allow_extra_args(false);
       return [a] { return submit(*a); };
     }});

}  // namespace
