#include "report/results_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/build_info.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/text.h"
#include "report/base64.h"

namespace sg::report {

bool is_seed_key(const std::string& key) {
  auto ends = [&](const std::string& s) {
    return key.size() >= s.size() && key.compare(key.size() - s.size(), s.size(), s) == 0;
  };
  return key == "seed" || ends(".seed") || ends("_seed");
}

namespace {

// Longer reasons for a skipped metric become notes below the Markdown and HTML tables.
constexpr size_t kLongReason = 60;

// The metrics eval writes, in the order a reader expects them; anything else follows by name.
const std::vector<std::string> kKnownOrder = {
    "fid", "kid_mean", "kid_std", "is_mean", "is_std", "depth_sie", "depth_sie_std",
    "normal_angle_deg", "normal_angle_deg_std", "normal_angle_depth_deg",
    "normal_angle_depth_deg_std", "learning_score", "learning_score_features",
    "learning_score_silhouette", "kid_random_features", "kid_random_features_std",
    "silhouette_kid", "silhouette_kid_std", "silhouette_iou"};

// The column (and row-key part) holding each run's evaluation settings (run_results.h).
const char* const kEvalSettings = "eval settings";

// The reference points in the order a reader meets them, with the words the table uses.
const std::vector<std::pair<std::string, std::string>> kReferencePoints = {
    {"untrained", "untrained generator (0%)"}, {"real_vs_real", "real vs real (100%)"},
    {"flat_plane", "best-oriented flat plane (shape)"}};
// The distances shown per reference point; the _std companions stay in table.json.
const std::vector<std::string> kReferenceColumns = {"kid_random_features", "silhouette_kid", "silhouette_iou",
                                                    "normal_angle_deg", "normal_angle_depth_deg", "depth_sie"};
const char* kScoreDefinition =
    "learning_score = (untrained - value) / (untrained - real vs real) per distance (kid_random_features, "
    "silhouette_kid), averaged: 0 is the untrained generator, 1 a second sample of real images.";

std::string value_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

std::string number(double x) {
  if (std::isnan(x)) return "nan";
  return fmt::format("{:.5g}", x);
}

std::string cell(const MetricSummary& m) {
  if (m.n == 0) return "—";
  if (m.n == 1) return number(m.mean);
  return fmt::format("{} ± {:.2g}", number(m.mean), m.std);
}

const MetricSummary* find_metric(const TableRow& r, const std::string& name) {
  auto it = r.metrics.find(name);
  return it == r.metrics.end() || it->second.n == 0 ? nullptr : &it->second;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string md_escape(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string run_names(const Table& t, const TableRow& r) {
  std::vector<std::string> names;
  for (size_t i : r.runs) names.push_back(t.runs[i].name);
  return join(names, " ");
}

// The reference columns any group has, in kReferenceColumns order.
std::vector<std::string> reference_columns(const std::vector<ReferenceGroup>& groups) {
  std::vector<std::string> cols;
  for (const auto& c : kReferenceColumns)
    for (const auto& g : groups)
      if (std::any_of(g.points.begin(), g.points.end(), [&](const nlohmann::json& p) { return p.contains(c); })) {
        cols.push_back(c);
        break;
      }
  return cols;
}

// One table row per (group, reference point): runs, reference, then the columns' values.
std::vector<std::vector<std::string>> reference_rows(const std::vector<ReferenceGroup>& groups,
                                                     const std::vector<std::string>& cols) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& g : groups)
    for (const auto& [key, words] : kReferencePoints) {
      if (!g.points.contains(key)) continue;
      std::vector<std::string> f = {join(g.runs, " "), words};
      for (const auto& c : cols)
        f.push_back(g.points[key].contains(c) ? number(g.points[key][c].get<double>()) : "—");
      rows.push_back(f);
    }
  return rows;
}

// "shadegan 0.1.0 (commit 0123456789ab)" for a {"version", "commit"} object.
std::string program_text(const nlohmann::json& p) {
  return fmt::format("shadegan {} (commit {})", p.value("version", "?"), p.value("commit", "?"));
}

// Which code made the table and which evaluated its runs (each distinct program with its count),
// so numbers side by side say whether the same code produced them.
std::string programs_line(const Table& t) {
  std::vector<std::pair<std::string, int>> seen;
  int unknown = 0;
  for (const auto& r : t.runs) {
    if (!r.program.is_object()) {
      ++unknown;
      continue;
    }
    const std::string p = program_text(r.program);
    auto it = std::find_if(seen.begin(), seen.end(), [&](const auto& s) { return s.first == p; });
    if (it == seen.end()) seen.push_back({p, 1});
    else ++it->second;
  }
  std::vector<std::string> parts;
  for (const auto& [p, n] : seen) parts.push_back(fmt::format("{} ({} run{})", p, n, n == 1 ? "" : "s"));
  if (unknown) parts.push_back(fmt::format("not recorded ({} run{})", unknown, unknown == 1 ? "" : "s"));
  return fmt::format("Table by {}; runs evaluated by {}.", program_text(program_json()),
                     parts.empty() ? std::string("none") : join(parts, ", "));
}

}  // namespace

std::vector<ReferenceGroup> reference_groups(const Table& t) {
  std::vector<ReferenceGroup> groups;
  for (const auto& r : t.runs) {
    if (r.reference_points.empty()) continue;
    auto it = std::find_if(groups.begin(), groups.end(), [&](const ReferenceGroup& g) { return g.points == r.reference_points; });
    if (it == groups.end()) groups.push_back({{r.name}, r.reference_points});
    else it->runs.push_back(r.name);
  }
  return groups;
}

Table build_table(std::vector<RunResults> runs, const std::string& name, const std::string& sort_by) {
  mark_partial_runs(runs);
  Table t;
  t.name = name;
  t.sort_by = sort_by;
  t.runs = std::move(runs);

  std::set<std::string> params, seeds, metrics;
  for (const auto& r : t.runs) {
    for (const auto& [k, v] : r.point.items()) (is_seed_key(k) ? seeds : params).insert(k);
    for (const auto& [k, v] : r.metrics) metrics.insert(k);
  }
  // The evaluation settings are a column of their own, and part of each row's key below.
  if (std::any_of(t.runs.begin(), t.runs.end(), [](const RunResults& r) { return !r.eval_settings.empty(); }))
    params.insert(kEvalSettings);
  t.params.assign(params.begin(), params.end());
  t.seed_keys.assign(seeds.begin(), seeds.end());
  for (const auto& k : kKnownOrder)
    if (metrics.erase(k)) t.metrics.push_back(k);
  t.metrics.insert(t.metrics.end(), metrics.begin(), metrics.end());

  // Group by the non-seed part of the point, keeping the first appearance's order.
  for (size_t i = 0; i < t.runs.size(); ++i) {
    nlohmann::json key = nlohmann::json::object();
    for (const auto& [k, v] : t.runs[i].point.items())
      if (!is_seed_key(k)) key[k] = v;
    // A run that belongs to no sweep is its own row, even when several have empty points.
    const bool swept = !t.runs[i].point.empty();
    // Runs evaluated with different settings are different rows: their numbers do not average.
    if (!t.runs[i].eval_settings.empty()) key[kEvalSettings] = t.runs[i].eval_settings;
    auto it = std::find_if(t.rows.begin(), t.rows.end(), [&](const TableRow& row) {
      return swept && !t.runs[row.runs.front()].point.empty() && row.point == key;
    });
    if (it == t.rows.end()) {
      t.rows.push_back({key, {i}, {}, ""});
    } else {
      it->runs.push_back(i);
    }
  }
  for (auto& row : t.rows) {
    for (const auto& m : t.metrics) {
      std::vector<double> xs;
      for (size_t i : row.runs) {
        auto it = t.runs[i].metrics.find(m);
        if (it != t.runs[i].metrics.end()) xs.push_back(it->second);
      }
      MetricSummary s;
      s.n = static_cast<int>(xs.size());
      if (s.n > 0) {
        for (double x : xs) s.mean += x;
        s.mean /= s.n;
        if (s.n > 1) {
          double ss = 0;
          for (double x : xs) ss += (x - s.mean) * (x - s.mean);
          s.std = std::sqrt(ss / (s.n - 1));
        }
      }
      row.metrics[m] = s;
    }
    std::vector<std::string> problems;
    for (size_t i : row.runs)
      if (t.runs[i].status != RunStatus::ok)
        problems.push_back(fmt::format("{} {}: {}", t.runs[i].name, run_status_name(t.runs[i].status),
                                       t.runs[i].problem));
    row.status = problems.empty() ? "ok" : join(problems, "; ");
    // A reason printed in every row buried the table (a sweep's runs all lack the same weights).
    row.status_noted = row.status;
    for (size_t i : row.runs)
      for (const auto& [metric, reason] : t.runs[i].skipped) {
        if (reason.size() <= kLongReason) continue;
        auto it = std::find(t.notes.begin(), t.notes.end(), reason);
        if (it == t.notes.end()) it = t.notes.insert(t.notes.end(), reason);
        const std::string ref = "[" + std::to_string(it - t.notes.begin() + 1) + "]";
        for (size_t at; (at = row.status_noted.find("(" + reason + ")")) != std::string::npos;)
          row.status_noted.replace(at, reason.size() + 2, ref);
      }
  }

  if (!sort_by.empty()) {
    const bool descending = sort_by[0] == '-';
    const std::string key = descending ? sort_by.substr(1) : sort_by;
    const bool is_metric = std::count(t.metrics.begin(), t.metrics.end(), key) > 0;
    const bool is_param = std::count(t.params.begin(), t.params.end(), key) > 0;
    if (!is_metric && !is_param && !t.metrics.empty()) {
      std::vector<std::string> valid = t.metrics;
      valid.insert(valid.end(), t.params.begin(), t.params.end());
      throw ConfigError("sort_by: " + unknown_name_message("metric or parameter", key, valid));
    }
    std::stable_sort(t.rows.begin(), t.rows.end(), [&](const TableRow& a, const TableRow& b) {
      if (is_param) {
        const nlohmann::json va = a.point.value(key, nlohmann::json()), vb = b.point.value(key, nlohmann::json());
        return descending ? vb < va : va < vb;
      }
      const MetricSummary* ma = find_metric(a, key);
      const MetricSummary* mb = find_metric(b, key);
      if (!ma || !mb) return ma && !mb;  // rows without the value go last
      return descending ? ma->mean > mb->mean : ma->mean < mb->mean;
    });
  }
  return t;
}

std::string table_csv(const Table& t) {
  std::vector<std::string> header = t.params;
  header.insert(header.end(), {"runs", "n_runs", "status"});
  for (const auto& m : t.metrics) {
    header.push_back(m);
    header.push_back(m + "_seed_std");
    header.push_back(m + "_n");
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& fields) {
    std::vector<std::string> q;
    for (const auto& f : fields) q.push_back(csv_field(f));
    out += join(q, ",") + "\n";
  };
  line(header);
  for (const auto& row : t.rows) {
    std::vector<std::string> f;
    for (const auto& p : t.params) f.push_back(value_text(row.point.value(p, nlohmann::json())));
    f.push_back(run_names(t, row));
    f.push_back(std::to_string(row.runs.size()));
    f.push_back(row.status);
    for (const auto& m : t.metrics) {
      const MetricSummary& s = row.metrics.at(m);
      f.push_back(s.n ? fmt::format("{:.17g}", s.mean) : "");
      f.push_back(s.n > 1 ? fmt::format("{:.17g}", s.std) : "");
      f.push_back(std::to_string(s.n));
    }
    line(f);
  }
  return out;
}

std::string table_markdown(const Table& t) {
  std::string out = fmt::format("# Results: {}\n\n", t.name);
  out += fmt::format("{} runs in {} rows", t.runs.size(), t.rows.size());
  if (!t.seed_keys.empty())
    out += fmt::format("; mean ± sample std over repeated {}", join(t.seed_keys, ", "));
  if (!t.sort_by.empty()) out += fmt::format("; sorted by {}", t.sort_by);
  out += ".\n" + programs_line(t) + "\n\n";
  std::vector<std::string> header = t.params;
  header.push_back("runs");
  header.insert(header.end(), t.metrics.begin(), t.metrics.end());
  header.push_back("status");
  out += "| " + join(header, " | ") + " |\n|";
  for (size_t i = 0; i < header.size(); ++i) out += " --- |";
  out += "\n";
  for (const auto& row : t.rows) {
    std::vector<std::string> f;
    for (const auto& p : t.params) f.push_back(md_escape(value_text(row.point.value(p, nlohmann::json()))));
    f.push_back(md_escape(run_names(t, row)));
    for (const auto& m : t.metrics) f.push_back(cell(row.metrics.at(m)));
    f.push_back(md_escape(row.status_noted));
    out += "| " + join(f, " | ") + " |\n";
  }
  for (size_t n = 0; n < t.notes.size(); ++n)
    out += fmt::format("\n[{}] {}\n", n + 1, md_escape(t.notes[n]));
  const std::vector<ReferenceGroup> groups = reference_groups(t);
  if (!groups.empty()) {
    const std::vector<std::string> cols = reference_columns(groups);
    out += "\n## Learning measure: where 0 and 100% are\n\n" + std::string(kScoreDefinition) + "\n\n";
    out += "| runs | reference | " + join(cols, " | ") + " |\n|";
    for (size_t i = 0; i < cols.size() + 2; ++i) out += " --- |";
    out += "\n";
    for (auto f : reference_rows(groups, cols)) {
      f[0] = md_escape(f[0]);
      out += "| " + join(f, " | ") + " |\n";
    }
  }
  return out;
}

nlohmann::json table_json(const Table& t) {
  nlohmann::json j;
  j["name"] = t.name;
  j["program"] = program_json();
  j["sort_by"] = t.sort_by;
  j["params"] = t.params;
  j["seed_keys"] = t.seed_keys;
  j["metrics"] = t.metrics;
  j["rows"] = nlohmann::json::array();
  for (const auto& row : t.rows) {
    nlohmann::json r;
    r["point"] = row.point;
    r["runs"] = nlohmann::json::array();
    for (size_t i : row.runs) r["runs"].push_back(t.runs[i].name);
    r["status"] = row.status;
    r["metrics"] = nlohmann::json::object();
    for (const auto& [m, s] : row.metrics)
      r["metrics"][m] = s.n ? nlohmann::json{{"mean", s.mean}, {"std", s.std}, {"n", s.n}}
                            : nlohmann::json{{"mean", nullptr}, {"std", nullptr}, {"n", 0}};
    j["rows"].push_back(r);
  }
  j["runs"] = nlohmann::json::array();
  for (const auto& r : t.runs) {
    nlohmann::json x;
    x["name"] = r.name;
    x["dir"] = r.dir;
    x["status"] = run_status_name(r.status);
    x["problem"] = r.problem;
    x["point"] = r.point;
    x["metrics"] = r.metrics;
    x["skipped"] = r.skipped;
    x["reference_points"] = r.reference_points;
    x["program"] = r.program;
    j["runs"].push_back(x);
  }
  return j;
}

std::string table_html(const Table& t) {
  std::string out =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + html_escape(t.name) +
      "</title>\n<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
      "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td.l,th.l{text-align:left}"
      "tr.bad{background:#fff3f0}img{image-rendering:pixelated;max-width:45%;margin:4px;"
      "border:1px solid #ddd}</style></head><body>\n";
  out += "<h1>Results: " + html_escape(t.name) + "</h1>\n<p>" + html_escape(programs_line(t)) + "</p>\n<table>\n<tr>";
  for (const auto& p : t.params) out += "<th class=\"l\">" + html_escape(p) + "</th>";
  out += "<th class=\"l\">runs</th>";
  for (const auto& m : t.metrics) out += "<th>" + html_escape(m) + "</th>";
  out += "<th class=\"l\">status</th></tr>\n";
  for (const auto& row : t.rows) {
    out += row.status == "ok" ? "<tr>" : "<tr class=\"bad\">";
    for (const auto& p : t.params)
      out += "<td class=\"l\">" + html_escape(value_text(row.point.value(p, nlohmann::json()))) + "</td>";
    out += "<td class=\"l\">" + html_escape(run_names(t, row)) + "</td>";
    for (const auto& m : t.metrics) out += "<td>" + html_escape(cell(row.metrics.at(m))) + "</td>";
    out += "<td class=\"l\">" + html_escape(row.status_noted) + "</td></tr>\n";
  }
  out += "</table>\n";
  for (size_t n = 0; n < t.notes.size(); ++n)
    out += "<p>[" + std::to_string(n + 1) + "] " + html_escape(t.notes[n]) + "</p>\n";
  const std::vector<ReferenceGroup> groups = reference_groups(t);
  if (!groups.empty()) {
    const std::vector<std::string> cols = reference_columns(groups);
    out += "<h2>Learning measure: where 0 and 100% are</h2>\n<p>" + html_escape(kScoreDefinition) +
           "</p>\n<table>\n<tr><th class=\"l\">runs</th><th class=\"l\">reference</th>";
    for (const auto& c : cols) out += "<th>" + html_escape(c) + "</th>";
    out += "</tr>\n";
    for (const auto& f : reference_rows(groups, cols)) {
      out += "<tr><td class=\"l\">" + html_escape(f[0]) + "</td><td class=\"l\">" + html_escape(f[1]) + "</td>";
      for (size_t i = 2; i < f.size(); ++i) out += "<td>" + html_escape(f[i]) + "</td>";
      out += "</tr>\n";
    }
    out += "</table>\n";
  }
  for (const auto& r : t.runs) {
    out += "<h2>" + html_escape(r.name) + " <small>(" + run_status_name(r.status) + ")</small></h2>\n";
    if (!r.point.empty()) out += "<p><code>" + html_escape(r.point.dump()) + "</code></p>\n";
    bool any = false;
    for (const std::string* img : {&r.sample_image, &r.loss_image}) {
      if (img->empty()) continue;
      try {
        out += "<img alt=\"" + html_escape(*img) + "\" src=\"data:image/png;base64," +
               base64_encode(read_file(*img)) + "\">";
        any = true;
      } catch (const Error&) {
      }
    }
    out += any ? "\n" : "<p>no sample grid or loss curve under " + html_escape(r.dir) + "/train</p>\n";
  }
  out += "</body></html>\n";
  return out;
}

std::vector<std::string> write_table(const Table& t, const std::string& out_dir) {
  create_dirs(out_dir);
  write_file_atomic(out_dir + "/table.csv", table_csv(t));
  write_file_atomic(out_dir + "/table.md", table_markdown(t));
  write_file_atomic(out_dir + "/table.json", table_json(t).dump(2) + "\n");
  write_file_atomic(out_dir + "/table.html", table_html(t));
  return {"table.csv", "table.md", "table.json", "table.html"};
}

}  // namespace sg::report
