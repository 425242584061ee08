#pragma once
// What the render and extract commands (and stage kinds) share: which generator to load (a
// `checkpoint` parameter, or the train stage among a stage's inputs), its light prior, the
// memory budget, and their work seed by seed: fan-out over chunks of seeds, skipping seeds
// already done with the same settings, and the summary each task writes.
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/kind_command.h"
#include "graph/kind.h"
#include "model/shading.h"
#include "train/generator_load.h"

namespace sg::app {

// The parameters both kinds take to find their generator.
std::vector<graph::ParamSpec> generator_params();

struct InferenceInput {
  train::LoadedGenerator loaded;
  std::string checkpoint;   // what was resolved (checkpoint dir or .pth)
  std::string content_hash; // of the checkpoint's meta.json (which lists every file's hash) or the .pth
};

// Loads the generator named by params["checkpoint"] (+ "curriculum", "weights", "device"), or,
// when the checkpoint is empty, from the input stage holding a trusted checkpoint. Every
// problem (nothing to load, weights that do not fit the curriculum) is an error before any work.
InferenceInput load_inference_input(const nlohmann::json& params, const std::map<std::string, std::string>& inputs);

// params["light_prior"], else the curriculum's mvn_path, else light_prior.pth in an input stage
// (the synth stage), else beside the checkpoint; `required` false returns an empty prior when
// none is found (a relight-only render).
model::LightPrior find_prior(const nlohmann::json& params, const InferenceInput& in,
                             const std::map<std::string, std::string>& inputs, bool required,
                             std::string* chosen);

// min(max_gb, the memory available: MemAvailable and what the job's cgroups leave) in bytes.
double memory_budget(double max_gb);

// The declaration of a kind that works seed by seed (render, extract): fanned out over chunks of
// params["seeds_per_task"] of params["seeds"], the command's --task choosing one chunk.
KindCommand seed_kind(std::string name, std::string kind_help, std::string command_help,
                      std::vector<graph::ParamSpec> params, KindWork work);

// params["seeds"], and the chunk of them task `task` works on (every seed for task < 0).
struct TaskSeeds {
  std::vector<int64_t> all;
  std::vector<int64_t> mine;
};
TaskSeeds task_seeds(const nlohmann::json& params, int task);

// `work` on each seed `finished` does not report done with the current settings (a rerun
// resumes where it stopped); logs, under `kind`, how many were skipped. A stop signal (Slurm's
// USR1 before a time limit, SIGTERM, Ctrl-C) lets the seed in hand finish, then throws an
// Error with ExitCode::preempted: the finished seeds stay, and the rerun does the rest.
void for_each_unfinished_seed(const std::string& kind, const std::vector<int64_t>& seeds,
                              const std::function<bool(int64_t)>& finished,
                              const std::function<void(int64_t)>& work);

// <out_dir>/<kind>.json (task < 0: every seed) or <kind>-task<NNNN>.json: the settings and seeds
// a task ran with, one file per task so concurrent tasks never write the same file.
void write_seed_summary(const std::string& out_dir, const std::string& kind, int task,
                        const nlohmann::json& settings);

}  // namespace sg::app
