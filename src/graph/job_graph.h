#pragma once
// The job graph of a run: the pipeline's stages bound to their kinds, parameters resolved
// against the kinds' declarations (defaults filled, types checked, relative paths made
// absolute), in a dependency order, each with its fingerprint.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config/pipeline.h"
#include "graph/kind.h"

namespace sg::graph {

struct Stage {
  std::string name;
  const KindSpec* kind = nullptr;
  nlohmann::json params;          // every declared parameter, typed, defaults filled
  std::vector<std::string> after;  // dependency names, as declared
  std::vector<size_t> deps;        // their indices in JobGraph::stages (always smaller)
  int ranks = 1;                   // MPI ranks it runs on (1 for kinds that are not MPI)
  std::optional<int> ranks_set;    // the stage's own `ranks`, if it had one
  std::string fingerprint;
  std::string where;               // file:line of its declaration
};

struct JobGraph {
  std::string name;
  std::string file;
  int ranks = 1;
  std::vector<Stage> stages;  // topological: dependencies first, otherwise in file order

  const Stage* find(const std::string& name) const;
  // Index of `name`; ConfigError listing the stages when there is none.
  size_t index(const std::string& name) const;
  std::vector<std::string> names() const;
  // `i` and every stage that depends on it, directly or not.
  std::vector<bool> downstream(size_t i) const;
};

// Binds kinds and resolves parameters: unknown kind (listing the kinds), unknown parameter,
// wrong type, missing required parameter, `ranks` on a kind that is not MPI: ConfigError with
// file:line (exit 2).
JobGraph build_graph(const config::Pipeline& pipeline);

// Runs every stage kind's `check` on its resolved parameters: ConfigError with the stage's
// file:line. For the commands that plan a run; a run's own snapshot is not checked again (its
// stages read their inputs when they start).
void check_params(const JobGraph& graph);

// Resolve one stage's parameters against its kind. `base_dir` anchors relative paths written in
// the file; paths given with --set are relative to the current directory.
nlohmann::json resolve_params(const config::StageDecl& stage, const KindSpec& kind,
                              const std::string& base_dir);

}  // namespace sg::graph
