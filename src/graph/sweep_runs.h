#pragma once
// A sweep laid out as runs (design.md: "identical stages across the runs of a sweep are planned
// once"). Every point is a run directory runs/<sweep>/<point>/ with its own graph. Stages whose
// fingerprint is the same in every point (the synthetic data and its shards, say) belong to one
// shared run, runs/<sweep>/_shared/, and each point links to them: its <stage> directory and
// state/<stage>.json are relative symlinks into _shared, so the point's planner and its stages
// read the shared outputs and marker as their own, and they are computed once.
#include <optional>
#include <string>
#include <vector>

#include "config/sweep.h"
#include "graph/job_graph.h"

namespace sg::graph {

struct SweepRuns {
  std::string root;                 // runs/<sweep>, absolute
  std::vector<std::string> shared;  // names of the stages every point shares
  std::optional<JobGraph> shared_graph;
  std::string shared_dir;           // root/_shared
  std::vector<JobGraph> graphs;     // per point
  std::vector<std::string> dirs;    // per point: root/<point>
};

// Builds every point's graph (ConfigError naming the sweep file's key when an override does
// not fit the pipeline) and finds the shared stages. `runs_root`: the folder holding runs/<sweep>.
SweepRuns plan_sweep(const config::Sweep& sweep, const std::string& runs_root);

// Makes point `i`'s links to the shared stages (idempotent; a real directory or marker already
// in the point is left alone) and writes its sweep.json.
void link_shared(const config::Sweep& sweep, const SweepRuns& runs, size_t i);

}  // namespace sg::graph
