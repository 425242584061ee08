#pragma once
// The results table over many runs (spec: issue 9, design.md "aggregate"): one row per point of
// the sweep, the swept parameters as columns, every metric as mean ± std over the runs that
// differ only in a seed, sorted by a chosen metric. Runs without results are kept: their row
// says which runs are missing or partial and why. Written as CSV, Markdown, JSON and one
// self-contained HTML page (the table, then each run's sample grid and loss curve inline).
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "report/run_results.h"

namespace sg::report {

// A swept key that only repeats an experiment: "seed", or a name ending in ".seed" / "_seed".
bool is_seed_key(const std::string& key);

struct MetricSummary {
  double mean = 0;
  double std = 0;  // sample std (n - 1) over the runs that have the metric; 0 when n < 2
  int n = 0;
};

struct TableRow {
  nlohmann::json point = nlohmann::json::object();  // the non-seed swept keys
  std::vector<size_t> runs;                         // indices into Table::runs
  std::map<std::string, MetricSummary> metrics;
  std::string status;                               // "ok", or which runs lack what
  // The same with each long reason a metric was skipped for (a paragraph, when the Inception
  // weights are not found) replaced by its note's number, "[1]": the Markdown and HTML tables
  // print that, and the reason once below them. CSV and JSON keep `status` whole.
  std::string status_noted;
};

struct Table {
  std::string name;
  std::string sort_by;              // metric (or parameter); '-' prefix: descending
  std::vector<std::string> params;  // non-seed swept keys, sorted
  std::vector<std::string> seed_keys;
  std::vector<std::string> metrics; // columns: the well-known ones first, then by name
  std::vector<RunResults> runs;
  std::vector<TableRow> rows;
  std::vector<std::string> notes;  // note n is notes[n - 1]
};

// Groups, summarises and sorts. `sort_by` empty keeps the points in run order; a name that is
// neither a metric nor a parameter of any run is a ConfigError listing the valid ones (unless
// no run has metrics at all, when there is nothing to sort).
Table build_table(std::vector<RunResults> runs, const std::string& name, const std::string& sort_by);

// Runs whose learning-measure reference points are identical, in run order: the table prints
// each group once ("where 0 and 100% are"), not once per run. Runs without them are left out.
struct ReferenceGroup {
  std::vector<std::string> runs;  // run names
  nlohmann::json points;          // RunResults::reference_points
};
std::vector<ReferenceGroup> reference_groups(const Table& t);

std::string table_csv(const Table& t);
std::string table_markdown(const Table& t);
nlohmann::json table_json(const Table& t);
// Images are embedded as data: URIs, so the page can be mailed or copied alone.
std::string table_html(const Table& t);

// Writes table.csv, table.md, table.json and table.html into `out_dir`, each atomically.
// Returns the file names written.
std::vector<std::string> write_table(const Table& t, const std::string& out_dir);

}  // namespace sg::report
