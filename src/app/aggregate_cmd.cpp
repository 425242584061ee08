// shadegan aggregate and the `aggregate` stage kind: the metrics of many runs (a sweep's, or
// globs) into results tables: table.csv, table.md, table.json and table.html (report/).
#include <filesystem>
#include <memory>

#include "app/command.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "graph/kind.h"
#include "report/results_table.h"

namespace {

using nlohmann::json;
using sg::graph::ParamType;
namespace fs = std::filesystem;

std::vector<sg::graph::ParamSpec> aggregate_params() {
  return {
      {"runs", ParamType::string_list, json::array(),
       "run directories or globs (relative: to the pipeline file's directory); empty: this run"},
      {"table", ParamType::string, "", "the table's name (its title, and results/<table>); empty: the run's name"},
      {"out", ParamType::path, "", "also write the tables here; empty: results/<table> beside the runs/ folder"},
      {"metrics", ParamType::string, "eval/metrics.json", "each run's metrics file, relative to the run; a glob (eval*/metrics.json) gives a row per matching stage"},
      {"sort_by", ParamType::string, "", "metric (or swept parameter) to sort rows by; '-name' for descending"},
  };
}

void run_aggregate(const std::vector<std::string>& patterns, const std::string& base_dir,
                   const std::string& name, const std::string& metrics_file, const std::string& sort_by,
                   const std::vector<std::string>& out_dirs) {
  const std::vector<std::string> dirs = sg::report::expand_run_patterns(patterns, base_dir);
  std::vector<sg::report::RunResults> runs = sg::report::read_runs(dirs, metrics_file);
  const sg::report::Table table = sg::report::build_table(std::move(runs), name, sort_by);
  int missing = 0;
  for (const auto& r : table.runs) {
    if (r.status != sg::report::RunStatus::ok) ++missing;
    if (r.status != sg::report::RunStatus::ok)
      sg::log::warn("aggregate: {} is {}: {}", r.dir, sg::report::run_status_name(r.status), r.problem);
  }
  for (const auto& out : out_dirs) sg::report::write_table(table, out);
  sg::log::info("aggregate: {} runs ({} not ok) in {} rows -> {}", table.runs.size(), missing,
                table.rows.size(), out_dirs.back() + "/table.{csv,md,json,html}");
}

const bool kind_registered = [] {
  sg::graph::KindSpec k;
  k.name = "aggregate";
  k.version = 1;
  k.help = "Metrics of many runs into results tables (CSV, Markdown, JSON, HTML)";
  k.params = aggregate_params();
  k.run = [](const sg::graph::StageContext& ctx) {
    std::vector<std::string> patterns = ctx.params.at("runs").get<std::vector<std::string>>();
    if (patterns.empty()) patterns = {ctx.run_dir};
    std::string name = ctx.params.at("table").get<std::string>();
    if (name.empty()) name = fs::path(ctx.run_dir).filename().string();
    std::string out = ctx.params.at("out").get<std::string>();
    if (out.empty()) out = (fs::path(ctx.run_dir).parent_path().parent_path() / "results" / name).string();
    // The stage's own copy is what its done marker tracks; `out` is where people look.
    run_aggregate(patterns, ctx.pipeline_dir, name, ctx.params.at("metrics").get<std::string>(),
                  ctx.params.at("sort_by").get<std::string>(), {out, ctx.stage_dir});
  };
  sg::graph::register_kind(std::move(k));
  return true;
}();

const bool registered = sg::app::register_command(
    {"aggregate", "Tables (CSV, Markdown, JSON, HTML) of the metrics of many runs",
     [](CLI::App& sub) -> sg::app::Runner {
       auto runs = std::make_shared<std::vector<std::string>>();
       auto name = std::make_shared<std::string>("results");
       auto out = std::make_shared<std::string>();
       auto metrics = std::make_shared<std::string>("eval/metrics.json");
       auto sort_by = std::make_shared<std::string>();
       sub.add_option("runs", *runs, "Run directories or globs (quote globs)")->required();
       sub.add_option("-n,--name", *name, "Table name")->capture_default_str();
       sub.add_option("-o,--out", *out, "Output directory (default results/<name>)");
       sub.add_option("--metrics", *metrics, "Metrics file relative to each run")->capture_default_str();
       sub.add_option("--sort-by", *sort_by, "Metric or swept parameter to sort by ('-name': descending)");
       return [=] {
         const std::string dir = out->empty() ? "results/" + *name : *out;
         run_aggregate(*runs, fs::current_path().string(), *name, *metrics, *sort_by,
                       {fs::absolute(dir).lexically_normal().string()});
         return 0;
       };
     }});

}  // namespace
