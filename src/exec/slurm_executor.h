#pragma once
// The Slurm executor: one sbatch job per stale stage (a job array for fan-out stages, chunked
// with an index offset above MaxArraySize), submitted in dependency order with
// --dependency=afterok, job ids recorded in the run's state (slurm_record.h). Jobs run the same
// `shadegan stage-exec` as the local executor and write their own markers, so the executor's
// work ends when everything is queued. Stages already queued or running are not submitted
// again; of a fan-out stage only the tasks neither done nor queued are.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "exec/executor.h"
#include "exec/slurm_cli.h"
#include "exec/slurm_profile.h"
#include "exec/slurm_record.h"

namespace sg::exec {

struct SlurmOptions {
  SlurmProfile profile;
  std::string exe;       // this binary; the profile's `shadegan` wins for the scripts
  bool dry_run = false;  // render and print, call nothing, write nothing
};

// One job the executor submitted (or would submit), or a stage it left alone and why.
struct PlannedJob {
  std::string stage;
  std::string job_id;                 // dry run: "<stage>" placeholder
  std::string note;                   // "up to date", "already queued as 12 (PENDING)", ...
  bool submitted = false;
  std::vector<int> tasks;             // array: the tasks of this chunk
  int offset = 0;
  std::vector<std::string> after;     // job ids it waits for
  std::vector<std::string> options;   // sbatch options
  std::string script_path, script_text;
};

class SlurmExecutor final : public Executor {
 public:
  explicit SlurmExecutor(SlurmOptions options);
  // Submits; ExecSummary.succeeded lists the stages submitted now. A rejected sbatch throws
  // StageError listing what had already been submitted (and recorded).
  ExecSummary execute(const graph::JobGraph& graph, const graph::Plan& plan, const std::string& run_dir) override;
  // The same with the details. `external`: stages provided by another run (a sweep's shared
  // stages): never submitted here; their job ids (empty when done) become dependencies.
  // `after_all`: jobs every stage without dependencies waits for (a sweep's gathering stage).
  std::vector<PlannedJob> submit(const graph::JobGraph& graph, const graph::Plan& plan, const std::string& run_dir,
                                 const std::map<std::string, std::vector<std::string>>& external = {},
                                 const std::vector<std::string>& after_all = {});
  // BusyError (exit 3) when a stage of the run still has a job queued or running that was
  // submitted for another configuration (fingerprint) than the graph's: the job would rebuild
  // its stage from the snapshot about to be rewritten and run the new configuration, beside the
  // job submitted for it. Call before writing the snapshot. Uses the cached queue (no extra call).
  void refuse_stale_jobs(const graph::JobGraph& graph, const std::string& run_dir);
  // One squeue call, cached for this executor's life (a sweep submits many runs with it).
  const std::vector<QueuedJob>& queue();
  SlurmCli& cli() { return cli_; }

 private:
  int max_array_size();
  SlurmOptions opt_;
  SlurmCli cli_;
  std::optional<std::vector<QueuedJob>> queue_;
  int max_array_size_ = 0;
  std::string template_text_;
};

// Human-readable plan: one line per stage (and chunk), then (verbose) each script.
std::string describe_jobs(const std::vector<PlannedJob>& jobs, bool with_scripts);

}  // namespace sg::exec
