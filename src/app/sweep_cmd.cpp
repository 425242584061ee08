// shadegan sweep: expand a sweep file into runs (config/sweep.h), plan once each stage that
// two or more points share (graph/sweep_runs.h: one copy per stage and fingerprint), then run
// them locally (--local, the default) or queue them on Slurm (--submit), and gather every run's
// metrics with an `aggregate` stage (gather = true). --dry-run lists the runs, the shared
// copies and which runs use each, and changes nothing.
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
  std::vector<std::string> dirs;
  for (const auto& run : r.points) dirs.push_back(run.dir);
  d.params["runs"] = {nlohmann::json(dirs), s.file};
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

// "by all 6 runs", or "by 3 runs: a, b, c" (the first few names: each run's own line in the
// dry run lists what it shares), or "by 1 run: a" (a copy done when more runs shared it).
std::string users_text(const sg::config::Sweep& s, const sg::graph::SharedStage& c) {
  const size_t n = c.points.size();
  if (n == s.points.size() && n > 1) return "by all " + std::to_string(n) + " runs";
  std::vector<std::string> names;
  for (size_t k = 0; k < n && k < 8; ++k) names.push_back(s.points[c.points[k]].name);
  if (n > names.size()) names.push_back("and " + std::to_string(n - names.size()) + " more");
  return "by " + std::to_string(n) + (n == 1 ? " run: " : " runs: ") + sg::join(names, ", ");
}

int sweep(const SweepArgs& a) {
  using namespace sg;
  if (a.local && a.submit) throw ConfigError("--local and --submit: choose one");
  const config::Sweep s = config::load_sweep(a.file);
  const graph::SweepRuns r = graph::plan_sweep(s, a.runs);
  std::optional<graph::JobGraph> gather;
  if (s.gather) gather = gather_graph(s, r);
  const std::string gather_dir = r.root + "/_aggregate";

  size_t to_run = 0, points_to_run = 0, copies_to_run = 0;
  std::vector<graph::Plan> plans;
  for (const auto& run : r.points) {
    plans.push_back(graph::plan(run.graph, run.dir));
    // Shared stages are their copies' business.
    size_t n = 0;
    for (size_t k = 0; k < run.graph.stages.size(); ++k)
      if (plans.back().stages[k].run && !run.linked.count(run.graph.stages[k].name)) ++n;
    to_run += n;
    points_to_run += n > 0;
  }
  std::vector<std::string> copy_state;  // "to run", "done", or "done in <run>, moves here"
  for (size_t k = 0; k < r.shared.size(); ++k) {
    const graph::Plan p = graph::plan(r.shared[k].graph, r.shared[k].dir);
    const bool runs = p.stages[r.shared[k].graph.index(r.copies[k].stage)].run;
    const std::string from = runs ? graph::done_elsewhere(r, k) : "";
    copy_state.push_back(!runs ? "done" : from.empty() ? "to run" : "done in " + from + ", moves here");
    copies_to_run += runs && from.empty();
  }
  std::printf("sweep %s: %zu runs under %s (%zu with work to do, %zu stages), %zu keys varied\n", s.name.c_str(),
              r.points.size(), r.root.c_str(), points_to_run, to_run, s.keys.size());
  if (r.copies.empty()) {
    std::printf("  shared stages: none\n");
  } else {
    std::printf("  shared stages: %zu copies, %zu to compute, each computed once in %s/<stage>-<fingerprint>:\n",
                r.copies.size(), copies_to_run, r.shared_root.c_str());
    for (size_t k = 0; k < r.copies.size(); ++k)
      std::printf("    %-32s %s  (%s)\n", r.shared[k].name.c_str(), users_text(s, r.copies[k]).c_str(),
                  copy_state[k].c_str());
  }
  if (a.dry_run) {
    for (size_t i = 0; i < r.points.size(); ++i) {
      std::vector<std::string> kv, shares;
      for (const auto& [ki, v] : s.points[i].values) kv.push_back(s.keys[ki].key + "=" + v.dump());
      for (const auto& st : r.points[i].graph.stages)
        if (auto l = r.points[i].linked.find(st.name); l != r.points[i].linked.end())
          shares.push_back(r.shared[l->second].name);
      std::printf("  %-40s %s  (%zu of %zu stages to run; shared: %s)\n", s.points[i].name.c_str(),
                  join(kv, " ").c_str(), plans[i].to_run(), r.points[i].graph.stages.size(),
                  shares.empty() ? "none" : join(shares, " ").c_str());
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

  struct RunResult {
    std::vector<exec::PlannedJob> jobs;  // Slurm: what was submitted or found queued
    bool ok = true;                      // locally: every stage finished
    bool stopped = false;                // locally: a stop signal arrived; start nothing more
  };
  // Runs one run directory: lock, snapshot, then execute locally or submit.
  auto run_one = [&](const graph::JobGraph& g, const std::string& dir,
                     const std::map<std::string, std::vector<std::string>>& external,
                     const std::vector<std::string>& after_all) -> RunResult {
    create_dirs(graph::state_dir(dir));
    RunLock lock(graph::lock_path(dir), a.break_lock);
    if (slurm) slurm->refuse_stale_jobs(g, dir);
    const graph::Plan p = graph::plan(g, dir);
    graph::write_snapshot(dir, g);
    RunResult res;
    if (slurm) {
      res.jobs = slurm->submit(g, p, dir, external, after_all);
      return res;
    }
    if (p.to_run() == 0) return res;
    const exec::ExecSummary e = local.execute(g, p, dir);
    note(e);
    res.ok = e.ok();
    res.stopped = e.stopped;
    return res;
  };
  // The job ids to wait for in what a run submitted (queued earlier counts: it is under way).
  auto job_ids = [](const std::vector<exec::PlannedJob>& jobs, const std::string& stage) {
    std::vector<std::string> ids;
    for (const auto& j : jobs)
      if ((stage.empty() || j.stage == stage) && !j.job_id.empty() &&
          (j.submitted || j.note.rfind("already queued", 0) == 0))
        for (const auto& id : split_ids(j.job_id)) ids.push_back(id);
    return ids;
  };

  // Copies first, in dependency order (a copy's upstream copies come before it), then the
  // points. On Slurm each copy's job is submitted once and every run that links it waits for
  // that job (`external`: its stages are never submitted by the linking run). Locally a copy
  // that failed stops only the runs that read it.
  std::vector<std::vector<std::string>> copy_jobs(r.shared.size());
  std::vector<bool> copy_failed(r.shared.size(), false);
  auto external_of = [&](const graph::SweepRun& run) {
    std::map<std::string, std::vector<std::string>> ext;
    for (const auto& [stage, k] : run.linked) ext[stage] = copy_jobs[k];
    return ext;
  };
  auto failed_copy = [&](const graph::SweepRun& run) -> std::string {
    for (const auto& [stage, k] : run.linked)
      if (copy_failed[k]) return r.shared[k].name;
    return "";
  };
  std::vector<std::string> leaves;  // every job of the sweep, for the gathering stage
  for (size_t k = 0; k < r.shared.size(); ++k) {
    const graph::SweepRun& run = r.shared[k];
    if (const std::string up = failed_copy(run); !up.empty()) {
      log::error("sweep {}: not computing {}: the shared copy it reads, {}, did not finish", s.name, run.name, up);
      copy_failed[k] = true;
      worst = ExitCode::failed;
      continue;
    }
    log::info("sweep {}: shared stage {} for {} run(s) in {}", s.name, r.copies[k].stage, r.copies[k].points.size(),
              run.dir);
    graph::link_copy(r, k, a.break_lock);
    const RunResult res = run_one(run.graph, run.dir, external_of(run), {});
    if (res.stopped) return to_int(worst);
    copy_failed[k] = !res.ok;
    copy_jobs[k] = job_ids(res.jobs, r.copies[k].stage);
    leaves.insert(leaves.end(), copy_jobs[k].begin(), copy_jobs[k].end());
    if (slurm) std::printf("%s (shared, %s):\n%s", run.name.c_str(), users_text(s, r.copies[k]).c_str(),
                           exec::describe_jobs(res.jobs, false).c_str());
  }
  for (size_t i = 0; i < r.points.size(); ++i) {
    const graph::SweepRun& run = r.points[i];
    if (const std::string up = failed_copy(run); !up.empty()) {
      log::error("sweep {}: not running {}: the shared copy it reads, {}, did not finish", s.name, run.name, up);
      worst = ExitCode::failed;
      continue;
    }
    graph::link_point(s, r, i);
    const RunResult res = run_one(run.graph, run.dir, external_of(run), {});
    if (res.stopped) return to_int(worst);
    const auto ids = job_ids(res.jobs, "");
    leaves.insert(leaves.end(), ids.begin(), ids.end());
    if (slurm) std::printf("%s:\n%s", run.name.c_str(), exec::describe_jobs(res.jobs, false).c_str());
  }
  if (gather) {
    if (!slurm && worst != ExitCode::ok) {
      log::warn("sweep {}: not gathering: some runs did not finish", s.name);
    } else {
      const auto res = run_one(*gather, gather_dir, {}, leaves);
      if (slurm) std::printf("aggregate:\n%s", exec::describe_jobs(res.jobs, false).c_str());
    }
  }
  if (slurm) std::printf("sweep %s: %d scheduler call(s)\n", s.name.c_str(), slurm->cli().calls);
  return to_int(worst);
}

const bool registered = sg::app::register_command(
    {"sweep", "Run or submit a sweep: one run per point, a stage points agree on once, a gathered table",
     [](CLI::App& sub) -> sg::app::Runner {
       auto a = std::make_shared<SweepArgs>();
       sub.add_option("sweep", a->file, "Sweep file ([sweep] pipeline, [grid], [zip])")->required();
       sub.add_flag("--local", a->local, "Run on this machine (the default)");
       sub.add_flag("--submit", a->submit, "Queue on Slurm");
       sub.add_flag("-n,--dry-run", a->dry_run, "List the runs, the shared copies of stages and which runs share each; change nothing");
       sub.add_flag("--break-lock", a->break_lock, "The run lock names a process on another host that is gone: take it over (see README, cluster file systems)");
       sub.add_option("--runs", a->runs, "Folder of run directories (default: runs)");
       sub.add_option("--profile", a->profile, "Slurm site profile (with --submit)");
       sub.add_option("-j,--jobs", a->jobs, "Stages at once, locally (default 1)");
       return [a] { return sweep(*a); };
     }});

}  // namespace
