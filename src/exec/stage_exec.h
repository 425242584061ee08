#pragma once
// The stage side of execution: what `shadegan stage-exec --run-dir R --stage S` does, whoever
// started it (the local executor, mpirun, or a Slurm job). It rebuilds the graph from
// R/run.toml, recomputes the stage's fingerprint, checks that its inputs are done, runs the
// kind's work function, and writes the done marker last. MPI is the caller's business (app/):
// every rank prepares and runs; only rank 0 begins and finishes.
#include <chrono>
#include <map>
#include <string>

#include "graph/job_graph.h"
#include "graph/state_store.h"

namespace sg::exec {

struct PreparedStage {
  graph::JobGraph graph;
  size_t index = 0;
  graph::StageContext ctx;
  std::map<std::string, graph::InputRecord> inputs;
  std::string started;
  std::chrono::steady_clock::time_point t0;
  const graph::Stage& stage() const { return graph.stages[index]; }
};

// StageError when an input is not done; ConfigError when R is not a run or S not a stage of it.
PreparedStage prepare_stage(const std::string& run_dir, const std::string& stage_name);
// Removes the old marker (a rerun that dies must not leave it looking done) and records the
// attempt as running.
void begin_stage(const PreparedStage& p);
// Lists the stage's outputs and writes the marker (last, atomically); removes the failure and
// running files. `job_id`: the Slurm job, empty locally.
graph::Marker finish_stage(const PreparedStage& p, const std::string& job_id = "");
// After the work function threw: the attempt is no longer running.
void abandon_stage(const PreparedStage& p);

// Fan-out stages (graph/task_markers.h). A task's attempt: the stage marker goes (the stage is
// not done while one of its tasks reruns) and the task is noted as running.
void begin_task(const PreparedStage& p, int task);
// The task marker (fingerprint and inputs); removes the task's failure and running notes.
void finish_task(const PreparedStage& p, int task, const std::string& job_id = "");
void abandon_task(const PreparedStage& p, int task);
// Under the stage's task lock: when every task of the current fingerprint is done and the stage
// has no marker for it yet, write the marker. Idempotent, so every finishing task (and the local
// executor) may call it; true when the stage is done.
bool finalize_fanout(const PreparedStage& p, const std::string& job_id = "");

// Records how an attempt ended when the process itself could not (killed, out of memory, time
// limit) or for the batch script: 75 (ExitCode::preempted) leaves a preempted note, anything
// else non-zero a failure with the end of the log. task < 0: the whole stage. Returns the exit
// code the attempt ended with, as recorded.
//
// The launcher's status is not always the stage's: under Slurm's preemption every process of
// the job gets SIGTERM, and mpirun exits at once (status 1) while its ranks are still saving
// their work. So with wait_seconds > 0, a non-zero, non-75 code is recorded only after waiting
// up to that long for this attempt's ranks: a preempted note of this attempt (the same
// SLURM_JOB_ID and SLURM_RESTART_COUNT) means the stage saved and stopped, and 75 is returned
// with no failure recorded; the stage's running note gone (or its process dead) means they have
// ended otherwise.
int record_exit(const std::string& run_dir, const std::string& stage, int task, int exit_code,
                const std::string& message, int wait_seconds = 0);

// prepare, begin, run the kind's work function, finish: a whole stage in this process, for kinds
// that are not MPI (and for tests). Fan-out kinds: every task not yet done, one after the other,
// each with its task marker, then the stage marker.
graph::Marker run_stage_here(const std::string& run_dir, const std::string& stage_name);

}  // namespace sg::exec
