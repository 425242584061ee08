#include "graph/snapshot.h"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"

namespace sg::graph {

std::string snapshot_path(const std::string& run_dir) { return run_dir + "/run.toml"; }

std::string toml_value(const nlohmann::json& v) {
  if (v.is_string()) return v.dump();  // JSON's escapes are all valid in TOML basic strings
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number_float()) {
    std::string s = fmt::format("{}", v.get<double>());  // shortest text that reads back exactly
    if (s.find_first_of(".eni") == std::string::npos) s += ".0";
    return s;
  }
  if (v.is_array()) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + toml_value(v[i]);
    return s + "]";
  }
  if (v.is_object()) {
    std::string s = "{ ";
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      s += (first ? "" : ", ") + nlohmann::json(it.key()).dump() + " = " + toml_value(it.value());
      first = false;
    }
    return s + " }";
  }
  throw Error(ExitCode::failed, "cannot write a null value to TOML");
}

// run.toml's first line; snapshot_source reads the path back from it.
const std::string kSourcePrefix = "# Written by `shadegan run` from ";

std::string snapshot_toml(const JobGraph& g) {
  std::string out;
  out += kSourcePrefix + std::filesystem::absolute(g.file).lexically_normal().string() + ":\n";
  out += "# the resolved pipeline this run was planned with (defaults filled, paths absolute).\n";
  out += "# Stages read it when they start; edit the pipeline file and rerun instead.\n\n";
  out += "[pipeline]\nname = " + nlohmann::json(g.name).dump() + "\nranks = " + std::to_string(g.ranks) + "\n";
  for (const auto& s : g.stages) {
    out += "\n[[stage]]\n";
    out += "name = " + nlohmann::json(s.name).dump() + "\n";
    out += "kind = " + nlohmann::json(s.kind->name).dump() + "\n";
    if (!s.after.empty()) out += "after = " + toml_value(nlohmann::json(s.after)) + "\n";
    if (s.ranks_set) out += "ranks = " + std::to_string(*s.ranks_set) + "\n";
    for (auto it = s.params.begin(); it != s.params.end(); ++it)
      out += nlohmann::json(it.key()).dump() + " = " + toml_value(it.value()) + "\n";
  }
  return out;
}

bool write_snapshot(const std::string& run_dir, const JobGraph& g) {
  const std::string path = snapshot_path(run_dir);
  const std::string text = snapshot_toml(g);
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && read_file(path) == text) return false;
  write_file_atomic(path, text);
  return true;
}

std::string snapshot_source(const std::string& run_dir) {
  std::ifstream in(snapshot_path(run_dir));
  std::string line;
  if (!std::getline(in, line) || line.rfind(kSourcePrefix, 0) != 0 || line.size() <= kSourcePrefix.size() + 1 ||
      line.back() != ':')
    return "";
  return line.substr(kSourcePrefix.size(), line.size() - kSourcePrefix.size() - 1);
}

JobGraph load_snapshot(const std::string& run_dir) {
  const std::string path = snapshot_path(run_dir);
  if (!std::filesystem::exists(path))
    throw ConfigError("'" + run_dir + "' is not a run directory (it has no run.toml); "
                      "`shadegan run <pipeline.toml> --run-dir " + run_dir + "` creates one");
  return build_graph(config::load_pipeline(path));
}

}  // namespace sg::graph
