#include "report/run_results.h"

#include <glob.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "core/json_file.h"
#include "core/text.h"

namespace fs = std::filesystem;

namespace sg::report {

const char* run_status_name(RunStatus s) {
  switch (s) {
    case RunStatus::ok: return "ok";
    case RunStatus::partial: return "partial";
    case RunStatus::missing: return "missing";
    case RunStatus::unreadable: return "unreadable";
  }
  return "?";
}

std::vector<std::string> expand_run_patterns(const std::vector<std::string>& patterns,
                                             const std::string& base_dir) {
  std::set<std::string> out;
  for (const std::string& p : patterns) {
    fs::path path(p);
    if (path.is_relative()) path = fs::path(base_dir) / path;
    const std::string pattern = path.lexically_normal().string();
    glob_t g{};
    const int rc = ::glob(pattern.c_str(), GLOB_MARK, nullptr, &g);
    bool any = false;
    if (rc == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        std::string m = g.gl_pathv[i];
        if (m.empty() || m.back() != '/') continue;  // GLOB_MARK: directories end in '/'
        m.pop_back();
        out.insert(fs::path(m).lexically_normal().string());
        any = true;
      }
    }
    globfree(&g);
    if (!any) out.insert(pattern);
  }
  return {out.begin(), out.end()};
}

namespace {

// The newest-named PNG in `dir` whose name contains one of `words`.
std::string find_png(const std::string& dir, const std::vector<std::string>& words) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return "";
  std::vector<std::string> hits;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file() || e.path().extension() != ".png" || name[0] == '.') continue;
    for (const auto& w : words)
      if (name.find(w) != std::string::npos) {
        hits.push_back(e.path().string());
        break;
      }
  }
  std::sort(hits.begin(), hits.end());
  return hits.empty() ? "" : hits.back();
}

}  // namespace

std::string eval_settings_text(const nlohmann::json& settings) {
  auto num = [](const nlohmann::json& o, const char* k) -> std::string {
    return o.contains(k) && o[k].is_number() ? o[k].dump() : "?";
  };
  std::vector<std::string> parts;
  const bool inception = settings.contains("num_images") && settings.contains("params") &&
                         settings["params"].is_object() && settings["params"].contains("input");
  if (inception) {
    const nlohmann::json& p = settings["params"];
    parts.push_back(fmt::format("fid/kid/is: {} fakes, {} reals, {} px, {}", num(settings, "num_images"),
                                num(settings, "real_images"), num(p, "img_size"),
                                p["input"].is_string() ? p["input"].get<std::string>() : p["input"].dump()));
  }
  if (settings.contains("shape") && settings["shape"].is_object()) {
    const nlohmann::json& sh = settings["shape"];
    parts.push_back(fmt::format("shape: {} images, {} steps, {} px", num(sh, "images"), num(sh, "steps"),
                                num(sh, "img_size")));
  }
  if (settings.contains("learning") && settings["learning"].is_object()) {
    const nlohmann::json& l = settings["learning"];
    parts.push_back(fmt::format("learning: {} images, {} px", num(l, "images"), num(l, "img_size")));
  }
  return join(parts, "; ");
}

RunResults read_run_results(const std::string& dir, const std::string& metrics_file) {
  RunResults r;
  r.dir = fs::absolute(dir).lexically_normal().string();
  r.name = fs::path(r.dir).filename().string();
  const std::string train = r.dir + "/train";
  // The trainer's pictures (train/trainer.h): samples/latest.png (else the newest
  // samples/step-*.png) and loss_curve.png; any *sample*/*loss* PNG in train/ otherwise.
  r.sample_image = fs::exists(train + "/samples/latest.png") ? train + "/samples/latest.png"
                                                           : find_png(train + "/samples", {"step", "sample"});
  if (r.sample_image.empty()) r.sample_image = find_png(train, {"sample", "grid", "preview"});
  r.loss_image = find_png(train, {"loss"});

  const std::string sweep = r.dir + "/sweep.json";
  if (fs::exists(sweep)) {
    try {
      const nlohmann::json s = read_json(sweep);
      if (s.contains("point") && s["point"].is_object()) r.point = s["point"];
      if (s.contains("sweep") && s["sweep"].is_string()) r.sweep = s["sweep"].get<std::string>();
    } catch (const std::exception& e) {
      r.problem = std::string("sweep.json: ") + e.what() + "; ";
    }
  }

  const std::string path = r.dir + "/" + metrics_file;
  if (!fs::exists(path)) {
    r.status = RunStatus::missing;
    r.problem += fs::is_directory(r.dir) ? "no " + metrics_file : "no such run directory";
    return r;
  }
  try {
    const nlohmann::json j = read_json(path);
    if (!j.contains("metrics") || !j["metrics"].is_object())
      throw std::runtime_error("no \"metrics\" object");
    for (const auto& [k, v] : j["metrics"].items())
      if (v.is_number()) r.metrics[k] = v.get<double>();
    if (j.contains("skipped") && j["skipped"].is_object())
      for (const auto& [k, v] : j["skipped"].items())
        r.skipped[k] = v.is_string() ? v.get<std::string>() : v.dump();
    if (j.contains("settings") && j["settings"].is_object()) {
      // The Inception settings only where an Inception metric was computed (they are recorded
      // whether or not the weights were found).
      nlohmann::json settings = j["settings"];
      if (!r.metrics.count("fid") && !r.metrics.count("kid") && !r.metrics.count("is")) settings.erase("num_images");
      r.eval_settings = eval_settings_text(settings);
    }
    if (j.contains("program") && j["program"].is_object()) r.program = j["program"];
    // Only numbers: the table prints them beside the learning measure's columns.
    if (j.contains("reference_points") && j["reference_points"].is_object())
      for (const auto& [point, values] : j["reference_points"].items()) {
        if (!values.is_object()) continue;
        for (const auto& [k, v] : values.items())
          if (v.is_number()) r.reference_points[point][k] = v.get<double>();
      }
  } catch (const std::exception& e) {
    r.status = RunStatus::unreadable;
    r.problem += metrics_file + ": " + e.what();
    return r;
  }
  if (!r.skipped.empty()) {
    r.status = RunStatus::partial;
    // Metrics skipped for the same reason share it ("fid, is, kid (no Inception weights ...)"):
    // the reason is often a paragraph, and three copies of it buried the table.
    std::vector<std::pair<std::string, std::vector<std::string>>> by_reason;
    for (const auto& [k, v] : r.skipped) {
      auto it = std::find_if(by_reason.begin(), by_reason.end(), [&](const auto& g) { return g.first == v; });
      if (it == by_reason.end()) it = by_reason.insert(by_reason.end(), {v, {}});
      it->second.push_back(k);
    }
    std::vector<std::string> groups;
    for (const auto& [reason, names] : by_reason) groups.push_back(join(names, ", ") + " (" + reason + ")");
    r.problem += "skipped: " + join(groups, "; ");
  } else {
    r.status = RunStatus::ok;
  }
  return r;
}

std::vector<RunResults> read_runs(const std::vector<std::string>& dirs, const std::string& metrics_pattern) {
  std::vector<RunResults> out;
  const bool pattern = metrics_pattern.find_first_of("*?[") != std::string::npos;
  for (const auto& dir : dirs) {
    std::vector<std::string> files;
    if (pattern) {
      glob_t g{};
      if (::glob((dir + "/" + metrics_pattern).c_str(), 0, nullptr, &g) == 0)
        for (size_t i = 0; i < g.gl_pathc; ++i) files.push_back(g.gl_pathv[i]);
      globfree(&g);
    }
    if (files.empty()) {
      out.push_back(read_run_results(dir, metrics_pattern));
      continue;
    }
    for (const auto& f : files) {
      const std::string rel = fs::path(f).lexically_relative(dir).string();
      RunResults r = read_run_results(dir, rel);
      const std::string stage = fs::path(rel).begin()->string();
      r.name += "/" + stage;
      r.point["stage"] = stage;
      out.push_back(std::move(r));
    }
  }
  return out;
}

void mark_partial_runs(std::vector<RunResults>& runs) {
  std::set<std::string> all;
  for (const auto& r : runs)
    for (const auto& [k, v] : r.metrics) all.insert(k);
  for (auto& r : runs) {
    if (r.status != RunStatus::ok && r.status != RunStatus::partial) continue;
    std::vector<std::string> absent;
    for (const auto& k : all)
      if (!r.metrics.count(k) && !r.skipped.count(k)) absent.push_back(k);
    if (absent.empty()) continue;
    r.status = RunStatus::partial;
    if (!r.problem.empty()) r.problem += "; ";
    r.problem += "absent: " + join(absent, ", ");
  }
}

}  // namespace sg::report
