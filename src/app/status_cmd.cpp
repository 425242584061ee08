// shadegan status: every stage of a run directory and its state, from the files alone.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "app/command.h"
#include "core/error.h"
#include "core/log.h"
#include "core/text.h"
#include "exec/slurm_status.h"
#include "graph/run_status.h"
#include "graph/snapshot.h"

namespace {

int status(const std::string& run_dir_in, bool json, bool verify) {
  using namespace sg;
  const std::string run_dir = std::filesystem::absolute(run_dir_in).lexically_normal().string();
  const graph::JobGraph g = graph::load_snapshot(run_dir);
  auto stages = graph::run_status(g, run_dir, verify);
  exec::SlurmCli cli;
  try {
    exec::overlay_slurm(g, run_dir, stages, cli);  // one squeue call, whatever the number of jobs
  } catch (const StageError& e) {
    log::warn("cannot ask Slurm about this run's jobs ({}); showing the files' view", e.what());
  }
  if (json) {
    nlohmann::json j{{"run", g.name}, {"run_dir", run_dir}, {"stages", graph::status_to_json(stages)}};
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::map<std::string, int> counts;
  for (const auto& s : stages) counts[graph::state_name(s.state)]++;
  std::vector<std::string> summary;
  for (const char* k : {"done", "running", "queued", "preempted", "failed", "stale", "not started"})
    if (counts[k]) summary.push_back(std::to_string(counts[k]) + " " + k);
  std::printf("%s (%s): %zu stages, %s\n", g.name.c_str(), run_dir.c_str(), stages.size(), join(summary, ", ").c_str());
  size_t width = 0;
  for (const auto& s : stages) width = std::max(width, s.name.size());
  for (const auto& s : stages) {
    std::string detail;
    switch (s.state) {
      case graph::StageState::done:
        detail = fmt::format("ended {} ({:.1f} s)", s.marker->ended, s.marker->duration_s);
        break;
      case graph::StageState::running:
        // Slurm may say a job runs before its stage-exec has written the running file.
        if (s.running)
          detail = fmt::format("pid {} since {}", s.running->value("pid", 0), s.running->value("started", "?"));
        break;
      case graph::StageState::failed:
        if (s.failure)
          detail = fmt::format("exit {} at {}: {}", s.failure->value("exit_code", 1), s.failure->value("time", "?"),
                               s.failure->value("message", ""));
        break;
      case graph::StageState::preempted:
        detail = fmt::format("saved its work at {}{}; rerun or requeue resumes it", s.preempted->value("time", "?"),
                             s.preempted->contains("slurm_restart_count")
                                 ? ", Slurm restart " + s.preempted->value("slurm_restart_count", "")
                                 : "");
        break;
      case graph::StageState::queued:
        detail = "";
        break;
      default:
        detail = join(s.reasons, "; ");
    }
    if (s.tasks_total > 1)
      detail = fmt::format("{}/{} tasks done{}{}", s.tasks_done, s.tasks_total,
                           s.tasks_failed.empty() ? "" : ", failed: " + [&] {
                             std::vector<std::string> t;
                             for (int i : s.tasks_failed) t.push_back(std::to_string(i));
                             return join(t, ",");
                           }(),
                           detail.empty() ? "" : "; " + detail);
    if (!s.scheduler.empty()) detail += (detail.empty() ? "" : "; ") + s.scheduler;
    std::printf("  %-*s  %-11s  %s\n", static_cast<int>(width), s.name.c_str(), graph::state_name(s.state),
                detail.c_str());
    if (s.state == graph::StageState::failed && s.failure) {
      for (const auto& l : s.failure->value("log_tail", nlohmann::json::array()))
        std::printf("  %*s  | %s\n", static_cast<int>(width), "", l.get<std::string>().c_str());
      std::printf("  %*s  (log: %s)\n", static_cast<int>(width), "", s.failure->value("log", "").c_str());
    }
  }
  return 0;
}

const bool registered = sg::app::register_command(
    {"status", "Show every stage of a run directory: done, stale (why), failed (log tail), running, queued on Slurm",
     [](CLI::App& sub) -> sg::app::Runner {
       auto dir = std::make_shared<std::string>();
       auto json = std::make_shared<bool>(false);
       auto verify = std::make_shared<bool>(false);
       sub.add_option("run_dir", *dir, "Run directory (runs/<name>)")->required();
       sub.add_flag("--json", *json, "Print as JSON");
       sub.add_flag("--verify", *verify, "Re-hash recorded outputs");
       return [=] { return status(*dir, *json, *verify); };
     }});

}  // namespace
