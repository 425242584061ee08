// Sweep and status at scale: plan a 1,000-run sweep and render its Slurm submission as a dry
// run (time, peak RSS); one `status` refresh of a run with 1,000 queued jobs (time, scheduler
// calls). Kinds are registered here (the bench links the libraries, not the app's kinds); the
// scheduler is a fake squeue on PATH printing 1,000 queued jobs, so the figures are ours alone.
//   ninja -C build bench_sweep && build/tests/bench/bench_sweep
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config/sweep.h"
#include "core/atomic_file.h"
#include "exec/slurm_executor.h"
#include "exec/slurm_status.h"
#include "graph/planner.h"
#include "graph/run_status.h"
#include "graph/snapshot.h"
#include "graph/sweep_runs.h"
#include "graph/task_markers.h"

namespace fs = std::filesystem;
using clk = std::chrono::steady_clock;

static double secs(clk::time_point t0) { return std::chrono::duration<double>(clk::now() - t0).count(); }
static long peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

int main() {
  using sg::graph::ParamType;
  for (const char* name : {"b_gen", "b_fan"}) {
    sg::graph::KindSpec k;
    k.name = name;
    k.params = {{"lr", ParamType::number, 1e-4, ""}, {"seed", ParamType::integer, 0, ""}, {"tasks", ParamType::integer, 1, ""}};
    if (std::string(name) == "b_fan")
      k.task_count = [](const nlohmann::json& p) { return static_cast<int>(p.at("tasks").get<int64_t>()); };
    sg::graph::register_kind(k);
  }
  const std::string dir = (fs::temp_directory_path() / ("sg-sweep-bench-" + std::to_string(getpid()))).string();
  fs::create_directories(dir);
  sg::write_file_atomic(dir + "/base.toml", R"(
[pipeline]
name = "base"
ranks = 2
[[stage]]
name = "data"
kind = "b_gen"
[[stage]]
name = "train"
kind = "b_gen"
after = ["data"]
[[stage]]
name = "render"
kind = "b_fan"
after = ["train"]
tasks = 8
[[stage]]
name = "eval"
kind = "b_gen"
after = ["train"]
)");
  std::string lrs, seeds;
  for (int i = 0; i < 10; ++i) lrs += (i ? ", " : "") + std::to_string(1e-5 * (i + 1));
  for (int i = 0; i < 100; ++i) seeds += (i ? ", " : "") + std::to_string(i);
  sg::write_file_atomic(dir + "/s.toml", "[sweep]\nname = \"big\"\npipeline = \"base.toml\"\ngather = false\n[grid]\n"
                                         "\"train.lr\" = [" + lrs + "]\n\"train.seed\" = [" + seeds + "]\n");
  sg::write_file_atomic(dir + "/profile.toml", "[slurm]\ntemplate = \"" + std::string(SG_SOURCE_DIR) +
                                                   "/slurm/job.sh.tmpl\"\nmax_array_size = 1001\n");

  // 1. Plan + dry-run submission of 1,000 runs.
  const long rss0 = peak_rss_mb();
  auto t0 = clk::now();
  const sg::config::Sweep s = sg::config::load_sweep(dir + "/s.toml");
  const sg::graph::SweepRuns r = sg::graph::plan_sweep(s, dir + "/runs");
  const double t_expand = secs(t0);
  sg::exec::SlurmOptions so;
  so.profile = sg::exec::load_slurm_profile(dir + "/profile.toml");
  so.exe = "/opt/shadegan";
  so.dry_run = true;
  sg::exec::SlurmExecutor ex(so);
  size_t jobs = 0, script_bytes = 0;
  auto t1 = clk::now();
  for (const auto& run : r.points) {
    std::map<std::string, std::vector<std::string>> external;  // each shared copy "queued" as job 1
    for (const auto& [stage, k] : run.linked) external[stage] = {"1"};
    const auto plan = sg::graph::plan(run.graph, run.dir);
    for (const auto& j : ex.submit(run.graph, plan, run.dir, external)) {
      jobs += j.submitted;
      script_bytes += j.script_text.size();
    }
  }
  const double t_submit = secs(t1);
  std::printf("sweep of %zu runs (%zu shared copies, the first %s): expand+graphs %.3f s, plan+dry-run submit %.3f s "
              "(%.2f ms per run, %zu jobs, %.1f MB of scripts rendered), total %.3f s; peak RSS %ld MB (%ld MB before)\n",
              r.points.size(), r.shared.size(), r.shared.empty() ? "-" : r.shared[0].name.c_str(), t_expand, t_submit,
              1e3 * t_submit / static_cast<double>(r.points.size()), jobs, script_bytes / 1e6, secs(t0), peak_rss_mb(), rss0);

  // 2. One status refresh over 1,000 queued jobs: a run of 10 stages, one an array of 991 tasks.
  const std::string run = dir + "/status-run";
  std::string pipe = "[pipeline]\nname = \"st\"\n";
  for (int i = 0; i < 9; ++i) pipe += "[[stage]]\nname = \"s" + std::to_string(i) + "\"\nkind = \"b_gen\"\n";
  pipe += "[[stage]]\nname = \"arr\"\nkind = \"b_fan\"\ntasks = 991\n";
  sg::write_file_atomic(dir + "/st.toml", pipe);
  const auto g = sg::graph::build_graph(sg::config::load_pipeline(dir + "/st.toml"));
  sg::graph::write_snapshot(run, g);
  std::string queue;
  for (int i = 0; i < 9; ++i) {
    sg::exec::Submission sub;
    sub.job_id = std::to_string(100 + i);
    sub.fingerprint = g.stages[static_cast<size_t>(i)].fingerprint;
    sg::exec::append_submission(run, "s" + std::to_string(i), sub);
    queue += sub.job_id + "|N/A|N/A|RUNNING|None\n";
  }
  sg::exec::Submission arr;
  arr.job_id = "200";
  arr.array = true;
  for (int t = 0; t < 991; ++t) arr.tasks.push_back(t);
  arr.fingerprint = g.stages.back().fingerprint;
  sg::exec::append_submission(run, "arr", arr);
  for (int t = 0; t < 991; ++t) queue += std::to_string(201 + t) + "|200|" + std::to_string(t) + "|PENDING|Resources\n";
  sg::write_file_atomic(dir + "/queue.txt", queue);
  fs::create_directories(dir + "/bin");
  sg::write_file_atomic(dir + "/bin/squeue", "#!/bin/sh\necho x >> " + dir + "/calls\ncat " + dir + "/queue.txt\n");
  fs::permissions(dir + "/bin/squeue", fs::perms::owner_all);
  setenv("PATH", (dir + "/bin:" + std::getenv("PATH")).c_str(), 1);
  auto t2 = clk::now();
  auto st = sg::graph::run_status(g, run);
  sg::exec::SlurmCli cli;
  sg::exec::overlay_slurm(g, run, st, cli);
  const double t_status = secs(t2);
  std::ifstream calls(dir + "/calls");
  int lines = 0;
  for (std::string l; std::getline(calls, l);) ++lines;
  std::printf("status refresh over 1000 queued jobs (9 jobs + an array of 991): %.3f s, %d scheduler call(s) "
              "(squeue %d), stage arr: %s\n",
              t_status, cli.calls, lines, sg::graph::state_name(st.back().state));
  fs::remove_all(dir);
  return 0;
}
