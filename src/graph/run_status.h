#pragma once
// `shadegan status`: the state of every stage of a run directory, judged from its files only
// (run.toml, markers, failure and running files), so it works while a run is going on, after a
// kill -9, and for stages that ran on other machines.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "graph/job_graph.h"
#include "graph/state_store.h"

namespace sg::graph {

// queued: submitted to Slurm and waiting (set by the Slurm overlay, exec/slurm_status.h; the
// files alone never say it). preempted: stopped on a signal after saving its work.
enum class StageState { done, stale, failed, running, not_started, preempted, queued };
// "done", "stale", "failed", "running", "not started", "preempted", "queued"
const char* state_name(StageState s);

struct StageStatus {
  std::string name, kind;
  StageState state = StageState::not_started;
  std::vector<std::string> reasons;       // why it is stale or not started
  std::optional<Marker> marker;           // done: when and how long
  std::optional<nlohmann::json> failure;  // failed: exit code, time, end of its log
  std::optional<nlohmann::json> running;  // running: pid, host, start
  std::optional<nlohmann::json> preempted;  // preempted: time, task, restart count
  int tasks_total = 1;                    // fan-out stages: how many tasks, and how many done
  int tasks_done = 0;
  std::vector<int> tasks_failed;          // tasks whose last attempt failed
  std::string scheduler;                  // what the scheduler says (Slurm overlay), e.g. "PENDING (Dependency)"
};

std::vector<StageStatus> run_status(const JobGraph& graph, const std::string& run_dir, bool verify = false);
nlohmann::json status_to_json(const std::vector<StageStatus>& stages);

}  // namespace sg::graph
