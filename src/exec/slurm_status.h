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

// Every job id of the run still in the queue (one squeue call), for `cancel`.
std::vector<std::string> queued_job_ids(const graph::JobGraph& graph, const std::string& run_dir, SlurmCli& cli);

}  // namespace sg::exec
