#pragma once
// Pipeline files (jobs/*.toml): which stages a run has, of which kind, with which parameters,
// after which other stages. This layer checks the shape of the file (names, dependencies,
// cycles, types of the structural keys); whether a kind exists and accepts the parameters is
// checked by graph/job_graph.h, which knows the kinds. Every error names file:line.
//
//   [pipeline]
//   name = "demo"        # default: the file's stem; the default run directory is runs/<name>
//   ranks = 2            # MPI ranks for MPI kinds (default 1)
//
//   [[stage]]
//   name = "train"       # [A-Za-z0-9_-]+, unique, not "state" or "logs"
//   kind = "train"
//   after = ["shard"]    # dependencies (optional)
//   ranks = 2            # overrides [pipeline].ranks for this stage (optional, MPI kinds only)
//   steps = 200          # every other key is a parameter of the kind
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace sg::config {

// A parameter as written: its value (TOML converted to JSON: integers stay integers, floats
// stay floats) and where it was written ("file:line", or "--set stage.key").
struct ParamValue {
  nlohmann::json value;
  std::string where;
};

struct StageDecl {
  std::string name;
  std::string kind;
  std::vector<std::string> after;
  std::optional<int> ranks;
  std::string where;       // "file:line" of the stage's name
  std::string kind_where;  // "file:line" of its kind
  std::map<std::string, ParamValue> params;
};

struct Pipeline {
  std::string file;  // as given; relative path parameters are resolved against its directory
  std::string name;
  int ranks = 1;
  std::vector<StageDecl> stages;  // in file order
};

// "stage.key=value" from the command line.
struct Override {
  std::string stage, key, value;
};
// ConfigError naming the argument when it is not of the form stage.key=value.
Override parse_override(const std::string& arg);

Pipeline load_pipeline(const std::string& path, const std::vector<Override>& overrides = {});
Pipeline parse_pipeline(const std::string& text, const std::string& source_name,
                        const std::vector<Override>& overrides = {});

const StageDecl* find_stage(const Pipeline& p, const std::string& name);
std::vector<std::string> stage_names(const Pipeline& p);

}  // namespace sg::config
