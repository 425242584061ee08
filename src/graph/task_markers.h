#pragma once
// Fan-out stages (KindSpec::task_count): a stage split into independent tasks, run
// concurrently by the local executor or as one Slurm job array. Each finished task leaves a
// task marker; the stage's own marker (state_store.h) is written once every task of the
// current fingerprint is done, by whichever task finishes last (under a lock, idempotently).
//
//   <run>/state/<stage>.tasks/<i>.json          task i is done: fingerprint, inputs, time, job
//   <run>/state/<stage>.tasks/<i>.failed.json   its last failed attempt (exit code, log tail)
//   <run>/state/<stage>.tasks/<i>.running.json  the attempt in progress
//   <run>/state/<stage>.tasks/lock              taken while deciding whether the stage is done
//   <run>/logs/<stage>.<i>.log                  task i's process output
//
// A task marker counts only while it records the stage's current fingerprint and the outputs
// digest each dependency has now: if a dependency is rebuilt, every task reruns.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "graph/job_graph.h"
#include "graph/state_store.h"

namespace sg::graph {

// 1 for kinds that do not fan out; ConfigError naming the stage when the kind returns < 1.
int stage_task_count(const Stage& stage);
// More than one task. A fan-out kind whose parameters give one task runs like any other stage
// (one process, task_index -1, the stage marker only).
bool is_fanout(const Stage& stage);

std::string tasks_dir(const std::string& run_dir, const std::string& stage);
std::string task_marker_path(const std::string& run_dir, const std::string& stage, int task);
std::string task_failure_path(const std::string& run_dir, const std::string& stage, int task);
std::string task_running_path(const std::string& run_dir, const std::string& stage, int task);
std::string task_log_path(const std::string& run_dir, const std::string& stage, int task);

struct TaskMarker {
  int task = 0;
  std::string fingerprint;
  std::map<std::string, InputRecord> inputs;
  std::string started, ended;
  double duration_s = 0;
  std::string host;
  std::string job_id;
};

void write_task_marker(const std::string& run_dir, const std::string& stage, const TaskMarker& m);
// nullopt when absent or unreadable (an unreadable task marker means the task reruns).
std::optional<TaskMarker> read_task_marker(const std::string& run_dir, const std::string& stage, int task);

// What each dependency of stage `index` looks like now (its marker's fingerprint and outputs
// digest); nullopt when one of them is not done.
std::optional<std::map<std::string, InputRecord>> current_inputs(const JobGraph& graph, size_t index,
                                                                 const std::string& run_dir);
// done[i]: task i has a marker for the stage's current fingerprint and inputs.
std::vector<bool> tasks_done(const JobGraph& graph, size_t index, const std::string& run_dir);
// Indices not done, ascending.
std::vector<int> missing_tasks(const std::vector<bool>& done);
// Forget every task of a stage (--force): markers, failures and running notes.
void clear_tasks(const std::string& run_dir, const std::string& stage);

void write_task_failure(const std::string& run_dir, const std::string& stage, int task, int exit_code,
                        const std::string& message);
std::optional<nlohmann::json> read_task_failure(const std::string& run_dir, const std::string& stage, int task);

// "1,3,5-9": array indices in Slurm's --array syntax (sorted, ranges collapsed).
std::string index_ranges(const std::vector<int>& indices);

}  // namespace sg::graph
