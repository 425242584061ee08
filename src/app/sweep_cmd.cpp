// shadegan sweep: expand a sweep file into runs (config/sweep.h), plan the stages every point
// shares once (graph/sweep_runs.h), then run them locally (--local, the default) or queue them
// on Slurm (--submit), and gather every run's metrics with an `aggregate` stage (gather = true).
// --dry-run lists the runs and the shared stages and changes nothing.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "app/command.h"
#include "config/sweep.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "core/run_lock.h"
#include "core/text.h"
#include "exec/executor.h"
#include "exec/slurm_executor.h"
#include "graph/planner.h"
#include "graph/snapshot.h"
#include "graph/state_store.h"
#include "graph/sweep_runs.h"

namespace fs = std::filesystem;

namespace {

std::vector<std::string> split_ids(const std::string& ids) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : ids + ",") {
    if (c == ',') {
      if (!cur.empty() && cur[0] != '<') out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  return out;
}

struct SweepArgs {
  std::string file, runs = "runs", profile;
  bool local = false, submit = false, dry_run = false, break_lock = false;
  int jobs = 1;
};

// The gathering run: one `aggregate` stage over every point's run directory.
sg::graph::JobGraph gather_graph(const sg::config::Sweep& s, const sg::graph::SweepRuns& r) {
  using namespace sg;
  config::Pipeline p;
  p.file = s.file;
  p.name = s.name + "-aggregate";
  config::StageDecl d;
  d.name = "aggregate";
  d.kind = "aggregate";
  d.where = d.kind_where = s.file;
  d.params["runs"] = {nlohmann::json(r.dirs), s.file};
  d.params["table"] = {s.name, s.file};
  d.params["metrics"] = {s.metrics, s.file};
  d.params["sort_by"] = {s.sort_by, s.file};
  // results/<sweep> beside the runs/ folder unless the sweep names another place.
  const std::string out = s.out.empty() ? (fs::path(r.root).parent_path().parent_path() / "results" / s.name).string()
                                        : s.out;
  d.params["out"] = {out, s.file};
  p.stages.push_back(d);
  return graph::build_graph(p);
}

int sweep(const SweepArgs& a) {
  using namespace sg;
  if (a.local && a.submit) throw ConfigError("--local and --submit: choose one");
  const config::Sweep s = config::load_sweep(a.file);
  const graph::SweepRuns r = graph::plan_sweep(s, a.runs);
  std::optional<graph::JobGraph> gather;
  if (s.gather) gather = gather_graph(s, r);
  const std::string gather_dir = r.root + "/_aggregate";

  size_t to_run = 0, points_to_run = 0;
  std::vector<graph::Plan> plans;
  for (size_t i = 0; i < r.graphs.size(); ++i) {
    plans.push_back(graph::plan(r.graphs[i], r.dirs[i]));
    // Shared stages are the shared run's business.
    size_t n = 0;
    for (size_t k = 0; k < r.graphs[i].stages.size(); ++k)
      if (plans.back().stages[k].run &&
          std::find(r.shared.begin(), r.shared.end(), r.graphs[i].stages[k].name) == r.shared.end())
        ++n;
    to_run += n;
    points_to_run += n > 0;
  }
  std::printf("sweep %s: %zu runs under %s (%zu with work to do, %zu stages), %zu keys varied\n", s.name.c_str(),
              r.graphs.size(), r.root.c_str(), points_to_run, to_run, s.keys.size());
  std::printf("  shared stages (planned once, in %s): %s\n", r.shared_dir.c_str(),
              r.shared.empty() ? "none" : join(r.shared, ", ").c_str());
  if (a.dry_run) {
    for (size_t i = 0; i < r.graphs.size(); ++i) {
      std::vector<std::string> kv;
      for (const auto& [ki, v] : s.points[i].values) kv.push_back(s.keys[ki].key + "=" + v.dump());
      std::printf("  %-40s %s  (%zu of %zu stages to run)\n", s.points[i].name.c_str(), join(kv, " ").c_str(),
                  plans[i].to_run(), r.graphs[i].stages.size());
    }
    std::printf("  gather: %s\n", gather ? ("aggregate -> " + gather->stages[0].params["out"].get<std::string>()).c_str()
                                         : "off (gather = false)");
    return 0;
  }

  std::unique_ptr<exec::SlurmExecutor> slurm;
  if (a.submit) {
    exec::SlurmOptions so;
    so.exe = app::self_exe();
    so.profile = exec::load_slurm_profile(a.profile.empty() ? exec::default_profile_path(so.exe) : a.profile);
    slurm = std::make_unique<exec::SlurmExecutor>(so);
  }
  exec::LocalOptions lo;
  lo.jobs = a.jobs;
  lo.exe = app::self_exe();
  exec::LocalExecutor local(lo);
  ExitCode worst = ExitCode::ok;
  auto note = [&](const exec::ExecSummary& e) {
    if (!e.failed.empty() || !e.skipped.empty()) worst = ExitCode::failed;
    else if (!e.preempted.empty() && worst == ExitCode::ok) worst = ExitCode::preempted;
  };

  // Runs one run directory: lock, snapshot, then execute locally or submit.
  auto run_one = [&](const graph::JobGraph& g, const std::string& dir,
                     const std::map<std::string, std::vector<std::string>>& external,
                     const std::vector<std::string>& after_all) -> std::vector<exec::PlannedJob> {
    create_dirs(graph::state_dir(dir));
    RunLock lock(graph::lock_path(dir), a.break_lock);
    if (slurm) slurm->refuse_stale_jobs(g, dir);
    const graph::Plan p = graph::plan(g, dir);
    graph::write_snapshot(dir, g);
    if (slurm) return slurm->submit(g, p, dir, external, after_all);
    if (p.to_run() == 0) return {};
    note(local.execute(g, p, dir));
    return {};
  };

  std::map<std::string, std::vector<std::string>> external;  // shared stage -> jobs to wait for
  if (r.shared_graph) {
    log::info("sweep {}: shared stages {} in {}", s.name, join(r.shared, ", "), r.shared_dir);
    const auto jobs = run_one(*r.shared_graph, r.shared_dir, {}, {});
    for (const auto& n : r.shared) external[n] = {};
    for (const auto& j : jobs)
      if (!j.job_id.empty() && (j.submitted || j.note.rfind("already queued", 0) == 0))
        for (const auto& id : split_ids(j.job_id)) external[j.stage].push_back(id);
    if (!slurm && worst != ExitCode::ok) {
      log::error("sweep {}: the shared stages did not finish; no point can run", s.name);
      return to_int(worst);
    }
  }
  std::vector<std::string> leaves;  // every point's last jobs, for the gathering stage
  for (size_t i = 0; i < r.graphs.size(); ++i) {
    graph::link_shared(s, r, i);
    const auto jobs = run_one(r.graphs[i], r.dirs[i], external, {});
    for (const auto& j : jobs)
      if (j.submitted || j.note.rfind("already queued", 0) == 0)
        for (const auto& id : split_ids(j.job_id)) leaves.push_back(id);
    if (slurm) std::printf("%s:\n%s", s.points[i].name.c_str(), exec::describe_jobs(jobs, false).c_str());
  }
  if (gather) {
    if (!slurm && worst != ExitCode::ok) {
      log::warn("sweep {}: not gathering: some runs did not finish", s.name);
    } else {
      const auto jobs = run_one(*gather, gather_dir, {}, leaves);
      if (slurm) std::printf("aggregate:\n%s", exec::describe_jobs(jobs, false).c_str());
    }
  }
  if (slurm) std::printf("sweep %s: %d scheduler call(s)\n", s.name.c_str(), slurm->cli().calls);
  return to_int(worst);
}

const bool registered = sg::app::register_command(
    {"sweep", "Run or submit a sweep: one run per point, shared stages once, a gathered table",
     [](CLI::App& sub) -> sg::app::Runner {
       auto a = std::make_shared<SweepArgs>();
       sub.add_option("sweep", a->file, "Sweep file ([sweep] pipeline, [grid], [zip])")->required();
       sub.add_flag("--local", a->local, "Run on this machine (the default)");
       sub.add_flag("--submit", a->submit, "Queue on Slurm");
       sub.add_flag("-n,--dry-run", a->dry_run, "List the runs and the shared stages; change nothing");
       sub.add_flag("--break-lock", a->break_lock, "The run lock names a process on another host that is gone: take it over (see README, cluster file systems)");
       sub.add_option("--runs", a->runs, "Folder of run directories (default: runs)");
       sub.add_option("--profile", a->profile, "Slurm site profile (with --submit)");
       sub.add_option("-j,--jobs", a->jobs, "Stages at once, locally (default 1)");
       return [a] { return sweep(*a); };
     }});

}  // namespace
