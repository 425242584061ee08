// shadegan cancel: cancel every queued or running Slurm job of a run directory (one squeue
// call, one scancel call). Finished stages keep their markers; `submit` queues the rest again.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "app/command.h"
#include "core/log.h"
#include "core/text.h"
#include "exec/slurm_status.h"
#include "graph/snapshot.h"

namespace {

int cancel(const std::string& dir) {
  using namespace sg;
  const std::string run_dir = std::filesystem::absolute(dir).lexically_normal().string();
  const graph::JobGraph g = graph::load_snapshot(run_dir);
  exec::SlurmCli cli;
  const auto ids = exec::queued_job_ids(g, run_dir, cli);
  if (ids.empty()) {
    std::printf("%s: no queued or running Slurm jobs\n", g.name.c_str());
    return 0;
  }
  cli.scancel(ids);
  std::printf("%s: cancelled %zu job(s): %s\n", g.name.c_str(), ids.size(), join(ids, " ").c_str());
  return 0;
}

const bool registered = sg::app::register_command(
    {"cancel", "Cancel a run's queued and running Slurm jobs", [](CLI::App& sub) -> sg::app::Runner {
       auto dir = std::make_shared<std::string>();
       sub.add_option("run_dir", *dir, "Run directory (runs/<name>)")->required();
       return [=] { return cancel(*dir); };
     }});

}  // namespace
