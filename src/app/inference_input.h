#pragma once
// What the render and extract commands (and stage kinds) share: which generator to load (a
// `checkpoint` parameter, or the train stage among a stage's inputs), its light prior, the key
// that says which weights and settings a seed's outputs came from, the memory budget, and
// kind parameters as command-line options.
#include <CLI/CLI.hpp>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

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

// min(max_gb, MemAvailable) in bytes.
double memory_budget(double max_gb);

// Every kind parameter as a --option (underscores become dashes); booleans are flags.
struct ParamOptions {
  std::map<std::string, std::string> values;
  std::map<std::string, bool> flags;
};
std::shared_ptr<ParamOptions> add_param_options(CLI::App& sub, const std::vector<graph::ParamSpec>& specs);
nlohmann::json params_from_options(const ParamOptions& given, const std::vector<graph::ParamSpec>& specs);

}  // namespace sg::app
