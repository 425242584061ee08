#pragma once
// Which points of a sweep share which stage. Two points share a stage when its fingerprint is
// the same in both: the fingerprint covers the stage's kind, parameters and its inputs'
// fingerprints (graph/fingerprint.h), so an equal fingerprint means the same computation on the
// same inputs, and every stage it depends on is shared by the same points (or more). A grid of
// 2 seeds x 3 eval settings gives one copy of the data for all six points, one training per
// seed for three points each, and six evals of their own (not shared: one point each).
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "graph/job_graph.h"

namespace sg::graph {

// One stage computed once for the points listed.
struct SharedStage {
  std::string stage;            // its name
  std::string fingerprint;
  std::vector<size_t> points;   // the points that share it, ascending; two or more unless done already
  // The copies this one's stage depends on, directly or not, by stage name: index into the
  // list shared_stages returns (always smaller than this copy's own index).
  std::map<std::string, size_t> upstream;
};

// Says whether a copy of `stage` with `fingerprint` is done already (from an earlier form of the
// sweep, when more points agreed on it).
using CopyDone = std::function<bool(const std::string& stage, const std::string& fingerprint)>;

// Every stage that two or more of `graphs` (one per point, built from one pipeline, so with the
// same stage names) have with the same fingerprint, in dependency order: stages in the graphs'
// order, and within a stage by first point. A stage of one point alone is a copy too when
// `done` says its copy is done and what it reads are copies: a point that no longer shares a
// stage keeps reading it instead of computing it again.
std::vector<SharedStage> shared_stages(const std::vector<JobGraph>& graphs, const CopyDone& done = {});

// Per point: stage name -> index of the copy it uses, for the stages it shares.
std::vector<std::map<std::string, size_t>> shared_by_point(const std::vector<SharedStage>& copies, size_t points);

}  // namespace sg::graph
