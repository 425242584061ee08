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

enum class StageState { done, stale, failed, running, not_started };
const char* state_name(StageState s);  // "done", "stale", "failed", "running", "not started"

struct StageStatus {
  std::string name, kind;
  StageState state = StageState::not_started;
  std::vector<std::string> reasons;       // why it is stale or not started
  std::optional<Marker> marker;           // done: when and how long
  std::optional<nlohmann::json> failure;  // failed: exit code, time, end of its log
  std::optional<nlohmann::json> running;  // running: pid, host, start
};

std::vector<StageStatus> run_status(const JobGraph& graph, const std::string& run_dir, bool verify = false);
nlohmann::json status_to_json(const std::vector<StageStatus>& stages);

}  // namespace sg::graph
