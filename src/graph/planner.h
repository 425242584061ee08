#pragma once
// What must run: for each stage of a graph, whether it is up to date in a run directory and,
// if not, every reason why (as ninja -d explain does). A stage is up to date when
//   - its marker exists and records the stage's current fingerprint,
//   - every output the marker records exists with the recorded size (and hash, with verify),
//   - each dependency is up to date and still has the outputs this stage was built from,
//   - it is not forced.
// Anything upstream that reruns makes everything downstream rerun.
#include <optional>
#include <string>
#include <vector>

#include "graph/job_graph.h"
#include "graph/state_store.h"

namespace sg::graph {

struct PlanOptions {
  std::vector<std::string> force;  // stage names (ConfigError when unknown)
  bool verify = false;             // re-hash recorded outputs
};

struct StagePlan {
  bool run = false;
  bool forced = false;               // named by --force: executors also forget its finished tasks
  std::vector<std::string> reasons;  // empty when up to date
  std::optional<Marker> marker;      // the marker found, if any
};

struct Plan {
  std::vector<StagePlan> stages;  // parallel to JobGraph::stages
  size_t to_run() const;
};

Plan plan(const JobGraph& graph, const std::string& run_dir, const PlanOptions& options = {});

}  // namespace sg::graph
