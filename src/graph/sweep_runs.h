#pragma once
// A sweep laid out as runs (design.md: "identical stages across the runs of a sweep are planned
// once"). Every point is a run directory runs/<sweep>/<point>/ with its own graph. A stage that
// two or more points have with the same fingerprint (graph/shared_stages.h) is computed once,
// in a run directory of its own:
//
//   runs/<sweep>/_shared/<stage>-<fingerprint, 16 hex>/   e.g. _shared/train-3fa2c1d9e0b4a1b2/
//     <stage>/ state/<stage>.json logs/ run.toml          the stage, as in any run
//     <upstream stage> -> ../<upstream>-<fp>/<upstream>   links to the copies it reads
//
// and each point that uses it links its <stage> directory and state/<stage>.json there
// (relative symlinks, so the sweep folder can be moved as a whole): the point's planner and
// its stages read the shared outputs and marker as their own. A copy is named by its stage and
// fingerprint, not by the points that use it, so adding a point to the sweep (one more eval
// setting) finds the existing copy and recomputes nothing, and a copy is never renamed under a
// point that links to it; the stage name comes first so `ls _shared` reads as what it holds.
// A stage shared by every point is the case where one copy lists them all. A done copy stays
// in use by a point that alone has its fingerprint now (graph/shared_stages.h).
#include <map>
#include <string>
#include <vector>

#include "config/sweep.h"
#include "graph/job_graph.h"
#include "graph/shared_stages.h"

namespace sg::graph {

// A run directory of the sweep: a point's, or a shared copy's.
struct SweepRun {
  std::string name;  // the point's name, or the copy's directory name under _shared
  std::string dir;   // absolute
  JobGraph graph;    // a point: the whole pipeline; a copy: its stage and every stage it depends on
  std::map<std::string, size_t> linked;  // stage -> index in SweepRuns::copies of the copy it links
};

struct SweepRuns {
  std::string root;                  // runs/<sweep>, absolute
  std::string shared_root;           // root/_shared
  std::vector<SharedStage> copies;   // which points share which stage, in dependency order
  std::vector<SweepRun> shared;      // per copy, same order: its run directory
  std::vector<SweepRun> points;      // per point
};

// Builds every point's graph (ConfigError naming the sweep file's key when an override does
// not fit the pipeline) and the shared copies. `runs_root`: the folder holding runs/<sweep>.
SweepRuns plan_sweep(const config::Sweep& sweep, const std::string& runs_root);

// Makes the links of run `run` (a point or a copy) to the copies it uses: idempotent; a real
// directory or marker already in the run is left alone (it computed that stage itself); a link
// to a copy it no longer uses, or to another copy, is removed first, so the run never writes
// through it into a copy other runs read.
void link_run(const SweepRuns& runs, const SweepRun& run);

// link_run for point `i`, and its sweep.json.
void link_point(const config::Sweep& sweep, const SweepRuns& runs, size_t i);

// Where copy `k`'s stage is done already though the copy has not computed it: a run directory
// of the sweep that has it as real files with the copy's fingerprint, or "" for none. A point
// that computed it alone before another point came to agree on it (a second eval setting
// added), or the single _shared run of the earlier layout, which held the stages every point
// shared directly (_shared/<stage>, _shared/state/<stage>.json).
std::string done_elsewhere(const SweepRuns& runs, size_t k);

// link_run for copy `k`, and its stage moved in from done_elsewhere (under that run's lock;
// `break_lock` as for `sweep --break-lock`) rather than computed again.
void link_copy(const SweepRuns& runs, size_t k, bool break_lock = false);

// The copy's directory name: <stage>-<first 16 hex digits of the fingerprint>.
std::string copy_name(const std::string& stage, const std::string& fingerprint);

}  // namespace sg::graph
