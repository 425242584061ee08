#pragma once
// Executors run the stale stages of a plan. This is the project's one interface: the local
// executor (child processes on this machine, mpirun for MPI kinds) and the Slurm executor (one
// sbatch job per stage) run the same `shadegan stage-exec` for each stage, and the stage writes
// its own marker, so what an executor does is only deciding where and when.
#include <string>
#include <vector>

#include "graph/job_graph.h"
#include "graph/planner.h"

namespace sg::exec {

struct ExecSummary {
  std::vector<std::string> succeeded, failed, skipped;  // skipped: an input failed or was preempted
  std::vector<std::string> preempted;  // exited 75 after saving their work: rerun to resume
  bool stopped = false;  // a stop signal reached the executor: nothing new was started after it
  bool ok() const { return failed.empty() && skipped.empty() && preempted.empty(); }
};

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs every stage the plan marks, dependencies first. A failing stage stops what depends on
  // it; independent stages still run to the end.
  virtual ExecSummary execute(const graph::JobGraph& graph, const graph::Plan& plan,
                              const std::string& run_dir) = 0;
};

struct LocalOptions {
  int jobs = 1;           // stages at once; an MPI stage takes min(ranks, jobs) of these slots
  std::string exe;        // the shadegan binary that runs `stage-exec`
  std::string mpirun = "mpirun";
};

class LocalExecutor final : public Executor {
 public:
  explicit LocalExecutor(LocalOptions options);
  ExecSummary execute(const graph::JobGraph& graph, const graph::Plan& plan,
                      const std::string& run_dir) override;

 private:
  LocalOptions opt_;
};

// The command line that runs one stage: `<exe> stage-exec --run-dir R --stage S [--task i]`,
// under `mpirun -np N` for MPI kinds with more than one rank. Fan-out stages run one process
// per missing task (task >= 0), as many at once as -j allows.
std::vector<std::string> stage_command(const LocalOptions& options, const graph::Stage& stage,
                                       const std::string& run_dir, int task = -1);

}  // namespace sg::exec
