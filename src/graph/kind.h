#pragma once
// Stage kinds: what a stage of a pipeline does. A kind declares its name, its own semantic
// version (bumped by hand when what it computes changes, never tied to the git commit, so
// rebuilding the tool never reruns finished work), the parameters it accepts, and the function
// that does the work. The planner needs only the declaration; the work function is wired in by
// src/app (each app/*_cmd.cpp registers the kind next to its subcommand), because the
// implementations live in libraries (data, train, render, ...) that graph must not depend on.
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sg::graph {

enum class ParamType { integer, number, boolean, string, string_list, path };

struct ParamSpec {
  std::string name;
  ParamType type;
  nlohmann::json default_value;  // null: required
  std::string help;
};

// Everything a stage's work function gets. Paths are absolute.
struct StageContext {
  std::string run_dir;     // runs/<run>
  // The directory of the pipeline file the run was planned from (snapshot_source), else the
  // current directory: what relative names a kind resolves itself (aggregate's run globs) mean.
  std::string pipeline_dir;
  std::string stage_name;
  std::string stage_dir;   // runs/<run>/<stage>: the stage writes its outputs here
  nlohmann::json params;   // resolved: every declared parameter, defaults filled in
  std::map<std::string, std::string> inputs;  // dependency stage name -> its stage_dir
  int ranks = 1;           // MPI ranks the stage runs on
  std::string log_path;    // runs/<run>/logs/<stage>.jsonl
  // Fan-out kinds (KindSpec::task_count set): which task this process runs, 0 <= task_index <
  // task_count. -1 means "every task, one after the other" (the standalone subcommand, or an
  // executor that does not split the stage).
  int task_index = -1;
  int task_count = 1;
};

struct KindSpec {
  std::string name;
  int version = 1;
  std::string help;
  std::vector<ParamSpec> params;
  bool mpi = false;  // started under mpirun (locally) / srun (Slurm) with the stage's ranks
  // Does the work; throws sg::Error on failure. Runs inside `shadegan stage-exec`, on every
  // rank for mpi kinds. Must leave only complete files in stage_dir (write-then-rename).
  std::function<void(const StageContext&)> run;
  // Fan-out (render, extract, eval chunks): the number of independent tasks the stage splits
  // into, a pure function of the resolved parameters (so it is known when a Slurm array is
  // submitted, before the inputs exist). Unset: one task. Each task writes task-unique files
  // under stage_dir; the executors run tasks concurrently (local) or as one job array (Slurm),
  // and the stage is done when every task is.
  std::function<int(const nlohmann::json& params)> task_count;
  // Checks the resolved parameters when a run is planned (run, submit, sweep, dry runs too), for
  // what their types cannot show: a curriculum that does not load, an override naming no key.
  // Without it a typo in the train stage surfaced only after synth and shard had run, or, on
  // Slurm, after the chain had waited its turn in the queue. Throws ConfigError saying what is
  // wrong. Unset: nothing to check.
  std::function<void(const nlohmann::json& params)> check;
};

void register_kind(KindSpec kind);
// The kind named `name`; ConfigError listing the valid kinds when nothing matches.
const KindSpec& find_kind(const std::string& name);
std::vector<std::string> kind_names();

}  // namespace sg::graph
