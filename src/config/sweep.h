#pragma once
// Sweep files (jobs/*.sweep.toml): a base pipeline and the overrides that vary across runs.
//
//   [sweep]
//   name = "lr"                  # runs go to runs/<name>/<point>/, the table to results/<name>/
//   pipeline = "demo.toml"       # the base pipeline, relative to this file
//   gather = true                # end with an `aggregate` stage over every point (default true)
//   metrics = "eval/metrics.json"  # each run's metrics file, relative to its run directory
//   sort_by = ""                 # aggregate's sort column
//   out = ""                     # the table's directory (default results/<name> beside runs/)
//
//   [grid]                       # cartesian product of every key's list
//   "train.seed" = [0, 1]
//   "train.curriculum.gen_lr" = [2e-5, 6e-5]   # stage.curriculum.<key>: a curriculum override,
//                                              # appended to the stage's `set` list as key=value
//   [zip]                        # lists of equal length, taken together (point i uses element i)
//   "train.stop_step" = [10, 20]
//   "render.count" = [2, 4]
//
// Keys are taken in sorted order (grid: the last key varies fastest). Every point is one run;
// its name is built from the varying keys' last parts and values
// ("seed-0_gen_lr-2e-05"), with characters other than [A-Za-z0-9.+-] replaced, so it is a
// readable, safe directory name; the exact values are kept in the run's sweep.json.
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "config/pipeline.h"

namespace sg::config {

struct SweepKey {
  std::string key;    // as written: "train.seed" or "train.curriculum.gen_lr"
  std::string stage;  // "train"
  std::string param;  // "seed", or "set" for a curriculum key
  std::string curriculum_key;  // "gen_lr" for curriculum keys, else ""
  std::string where;  // file:line
};

struct SweepPoint {
  std::string name;
  std::vector<std::pair<size_t, nlohmann::json>> values;  // index into Sweep::keys, value
};

struct Sweep {
  std::string file, name, pipeline;  // pipeline: absolute
  bool gather = true;
  std::string metrics = "eval/metrics.json";
  std::string sort_by, out;
  std::vector<SweepKey> keys;
  std::vector<SweepPoint> points;
};

// ConfigError with file:line for unknown keys, empty lists, zip lists of different lengths,
// keys not of the form stage.param or stage.curriculum.key.
Sweep load_sweep(const std::string& path);

// The base pipeline with point `p`'s overrides applied (stage and parameter names are checked
// against the pipeline here; the kinds check the values when the graph is built).
Pipeline point_pipeline(const Sweep& sweep, const Pipeline& base, const SweepPoint& p);

// {"sweep": name, "run": point name, "point": {key: value, ...}}
nlohmann::json point_json(const Sweep& sweep, const SweepPoint& p);

}  // namespace sg::config
