#pragma once
// One run as the results table sees it: its metrics file, the swept parameters that produced it
// (<run>/sweep.json, written by `shadegan sweep`), and the pictures worth showing beside the
// numbers. Nothing here fails on a run that has no results yet: what is missing is recorded
// with the reason, so the table can list the run instead of dropping it.
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sg::report {

enum class RunStatus {
  ok,          // every metric the table reports is there
  partial,     // the file exists but some metrics are skipped or absent
  missing,     // no metrics file (the run has not been evaluated, or failed before)
  unreadable,  // the file exists but is not the JSON eval writes
};
const char* run_status_name(RunStatus s);

struct RunResults {
  std::string dir;   // absolute
  std::string name;  // the run directory's name
  RunStatus status = RunStatus::missing;
  std::string problem;                          // why it is not ok, for the table
  nlohmann::json point = nlohmann::json::object();  // swept key -> value (sweep.json "point")
  std::string sweep;                            // sweep.json "sweep", if any
  std::map<std::string, double> metrics;        // flat name -> number
  std::map<std::string, std::string> skipped;   // name -> reason (from metrics.json)
  // The learning measure's 0% and 100% (metrics.json "reference_points"): {"untrained": {name:
  // number}, "real_vs_real": {...}}; empty when the run has none.
  nlohmann::json reference_points = nlohmann::json::object();
  std::string sample_image, loss_image;         // absolute paths of PNGs, or ""
  // What the metrics' values depend on besides the generator (eval_settings_text): runs whose
  // settings differ are never averaged into one row, and every row shows its settings.
  std::string eval_settings;
  // The program that evaluated the run (metrics.json "program": version and commit), or null.
  nlohmann::json program;
};

// "fid/kid/is: 256 fakes, 256 reals, 32 px, torch-fidelity; shape: 16 images, 100 steps,
// 16 px; learning: 128 images, 32 px" from metrics.json's "settings" (eval_cmd.cpp), naming
// only the parts the file has; "" for none. read_run_results drops the fid/kid/is part when the
// run has none of those metrics.
std::string eval_settings_text(const nlohmann::json& settings);

// Run directories named by `patterns` (directories or globs with * ? [..]; relative ones against
// `base_dir`), sorted and de-duplicated. A pattern that matches nothing is kept as a literal
// path, so the run shows up as missing rather than vanishing.
std::vector<std::string> expand_run_patterns(const std::vector<std::string>& patterns,
                                             const std::string& base_dir);

// Reads <dir>/<metrics_file> and <dir>/sweep.json; looks for the sample grid and loss curve
// under <dir>/train. Never throws for a missing or bad file: the status says so.
RunResults read_run_results(const std::string& dir, const std::string& metrics_file);

// Every run's results. `metrics_pattern` may hold glob characters (e.g. "eval*/metrics.json"
// for a run with several eval stages): each match is then one entry, named "<run>/<stage>",
// with the stage directory as the swept parameter "stage". A pattern matching nothing in a run
// gives one `missing` entry for it.
std::vector<RunResults> read_runs(const std::vector<std::string>& dirs, const std::string& metrics_pattern);

// Marks runs `partial` that lack a metric any other run has (the table's columns).
void mark_partial_runs(std::vector<RunResults>& runs);

}  // namespace sg::report
