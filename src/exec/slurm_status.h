#pragma once
// `shadegan status` for runs submitted to Slurm: the file-based status (graph/run_status.h)
// with what the scheduler says about the stages' recorded jobs laid over it, from ONE squeue
// call per refresh whatever the number of jobs, plus at most one batched sacct call for jobs
// that left the queue without leaving a marker or a failure note (skipped where accounting is
// disabled). Markers always decide "done".
#include <string>
#include <vector>

#include "exec/slurm_cli.h"
#include "graph/run_status.h"

namespace sg::exec {

// True when any stage of the run was ever submitted to Slurm.
bool has_slurm_jobs(const graph::JobGraph& graph, const std::string& run_dir);

void overlay_slurm(const graph::JobGraph& graph, const std::string& run_dir,
                   std::vector<graph::StageStatus>& stages, SlurmCli& cli);

// The run's stages that still have jobs in `queue` (one squeue listing), each described as
// "<stage>: job <ids> <state>". `other_fingerprint_only`: only jobs submitted for a configuration
// other than the stage's fingerprint in `graph` (a job script rebuilds its stage from the run's
// snapshot when it starts, so such a job would run the new configuration under the old job).
// Used to keep one writer per stage directory: `run` refuses while any is listed, `submit` while
// one of another configuration is.
std::vector<std::string> stages_on_slurm(const graph::JobGraph& graph, const std::string& run_dir,
                                         const std::vector<QueuedJob>& queue, bool other_fingerprint_only);

// Every job id of the run still in the queue (one squeue call), for `cancel`.
std::vector<std::string> queued_job_ids(const graph::JobGraph& graph, const std::string& run_dir, SlurmCli& cli);

}  // namespace sg::exec
