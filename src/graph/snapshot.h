#pragma once
// run.toml: the resolved pipeline a run was planned with, written into the run directory. It is
// itself a pipeline file (every parameter explicit, paths absolute), so `stage-exec` rebuilds
// exactly the graph the orchestrator planned, on this machine or on a Slurm node, and
// `status` describes the run without the original file.
#include <string>

#include "graph/job_graph.h"

namespace sg::graph {

std::string snapshot_toml(const JobGraph& graph);
// Writes <run_dir>/run.toml atomically unless it already has exactly this content (so a run
// with nothing to do leaves the directory untouched). Returns true when it wrote.
bool write_snapshot(const std::string& run_dir, const JobGraph& graph);
// The graph of <run_dir>/run.toml; ConfigError when the directory holds no run.
JobGraph load_snapshot(const std::string& run_dir);
std::string snapshot_path(const std::string& run_dir);
// The pipeline file <run_dir>/run.toml was written from, as its first line names it; "" when the
// file or that line is missing.
std::string snapshot_source(const std::string& run_dir);

// A JSON value as TOML (scalars and arrays; floats always with a '.' or exponent so they read
// back as floats).
std::string toml_value(const nlohmann::json& v);

}  // namespace sg::graph
