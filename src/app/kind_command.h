#pragma once
// A stage kind that is also a subcommand of the same name doing the same work outside a
// pipeline (synth, render, extract, eval): every kind parameter is an option of the command
// (underscores become dashes, booleans are --x / --no-x flags), -o/--out stands for the stage
// directory, and a fan-out kind's command takes --task. One declaration registers both, so the
// command and the stage cannot drift apart in what they accept.
#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "graph/kind.h"

namespace sg::app {

// The work of the kind: for the stage its resolved parameters, inputs, stage_dir and task; for
// the command the parsed options, no inputs, the absolute -o directory and --task (-1: all).
using KindWork = std::function<void(const nlohmann::json& params, const std::map<std::string, std::string>& inputs,
                                    const std::string& out_dir, int task)>;

struct KindCommand {
  graph::KindSpec kind;        // everything but `run`, which is made from `work`
  std::string command_help;    // the subcommand's one line (kind.help is the stage kind's)
  std::string out_help = "Output directory";
  std::string task_help;       // fan-out kinds (kind.task_count set): what --task selects
  KindWork work;
};

// Registers kind.name as a stage kind and as a subcommand; for static initialisers.
bool register_kind_command(KindCommand k);

// Every kind parameter as a --option (underscores become dashes); booleans are flags.
struct ParamOptions {
  std::map<std::string, std::string> values;
  std::map<std::string, bool> flags;
};
std::shared_ptr<ParamOptions> add_param_options(CLI::App& sub, const std::vector<graph::ParamSpec>& specs);
// A boolean option given as a value: true/false, yes/no, 1/0 (any case); ConfigError naming
// `option` otherwise, so "--fix-unique-lr yes" never silently means false.
bool parse_bool_option(const std::string& option, const std::string& value);
// The parameters the options give, defaults for those not given; ConfigError for a malformed number.
nlohmann::json params_from_options(const ParamOptions& given, const std::vector<graph::ParamSpec>& specs);

}  // namespace sg::app
