#include "graph/task_markers.h"

#include <filesystem>

#include "core/build_info.h"
#include "core/error.h"
#include "core/json_file.h"
#include "core/log.h"

namespace fs = std::filesystem;

namespace sg::graph {

bool is_fanout(const Stage& s) { return stage_task_count(s) > 1; }

int stage_task_count(const Stage& s) {
  if (!s.kind->task_count) return 1;
  const int n = s.kind->task_count(s.params);
  if (n < 1)
    throw ConfigError(s.where + ": stage " + s.name + " (kind " + s.kind->name + ") splits into " +
                      std::to_string(n) + " tasks; its parameters must give at least 1");
  return n;
}

std::string tasks_dir(const std::string& r, const std::string& s) { return state_dir(r) + "/" + s + ".tasks"; }
std::string task_marker_path(const std::string& r, const std::string& s, int i) {
  return tasks_dir(r, s) + "/" + std::to_string(i) + ".json";
}
std::string task_failure_path(const std::string& r, const std::string& s, int i) {
  return tasks_dir(r, s) + "/" + std::to_string(i) + ".failed.json";
}
std::string task_running_path(const std::string& r, const std::string& s, int i) {
  return tasks_dir(r, s) + "/" + std::to_string(i) + ".running.json";
}
std::string task_log_path(const std::string& r, const std::string& s, int i) {
  return r + "/logs/" + s + "." + std::to_string(i) + ".log";
}

void write_task_marker(const std::string& run_dir, const std::string& stage, const TaskMarker& m) {
  nlohmann::json j;
  j["task"] = m.task;
  j["fingerprint"] = m.fingerprint;
  j["inputs"] = nlohmann::json::object();
  for (const auto& [n, in] : m.inputs)
    j["inputs"][n] = {{"fingerprint", in.fingerprint}, {"outputs_digest", in.outputs_digest}};
  j["started"] = m.started;
  j["ended"] = m.ended;
  j["duration_s"] = m.duration_s;
  j["host"] = m.host;
  j["job_id"] = m.job_id;
  j["program"] = program_json();
  write_json_atomic(task_marker_path(run_dir, stage, m.task), j);
}

std::optional<TaskMarker> read_task_marker(const std::string& run_dir, const std::string& stage, int task) {
  const std::string path = task_marker_path(run_dir, stage, task);
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  try {
    const nlohmann::json j = read_json(path);
    TaskMarker m;
    m.task = j.at("task").get<int>();
    m.fingerprint = j.at("fingerprint").get<std::string>();
    for (auto it = j.at("inputs").begin(); it != j.at("inputs").end(); ++it)
      m.inputs[it.key()] = {it.value().at("fingerprint").get<std::string>(),
                            it.value().at("outputs_digest").get<std::string>()};
    m.started = j.value("started", "");
    m.ended = j.value("ended", "");
    m.duration_s = j.value("duration_s", 0.0);
    m.host = j.value("host", "");
    m.job_id = j.value("job_id", "");
    if (m.task != task) return std::nullopt;
    return m;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<std::map<std::string, InputRecord>> current_inputs(const JobGraph& g, size_t index,
                                                                 const std::string& run_dir) {
  std::map<std::string, InputRecord> out;
  for (size_t d : g.stages[index].deps) {
    const Stage& dep = g.stages[d];
    std::optional<Marker> m;
    try {
      m = read_marker(run_dir, dep.name);
    } catch (const FormatError&) {
      return std::nullopt;
    }
    if (!m || m->fingerprint != dep.fingerprint) return std::nullopt;
    out[dep.name] = {m->fingerprint, m->outputs_digest};
  }
  return out;
}

static bool same_inputs(const std::map<std::string, InputRecord>& a, const std::map<std::string, InputRecord>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end() || it->second.fingerprint != v.fingerprint || it->second.outputs_digest != v.outputs_digest)
      return false;
  }
  return true;
}

std::vector<bool> tasks_done(const JobGraph& g, size_t index, const std::string& run_dir) {
  const Stage& s = g.stages[index];
  std::vector<bool> done(static_cast<size_t>(stage_task_count(s)), false);
  const auto inputs = current_inputs(g, index, run_dir);
  if (!inputs) return done;
  std::error_code ec;
  if (!fs::is_directory(tasks_dir(run_dir, s.name), ec)) return done;
  for (size_t i = 0; i < done.size(); ++i) {
    auto m = read_task_marker(run_dir, s.name, static_cast<int>(i));
    done[i] = m && m->fingerprint == s.fingerprint && same_inputs(m->inputs, *inputs);
  }
  return done;
}

std::vector<int> missing_tasks(const std::vector<bool>& done) {
  std::vector<int> out;
  for (size_t i = 0; i < done.size(); ++i)
    if (!done[i]) out.push_back(static_cast<int>(i));
  return out;
}

void clear_tasks(const std::string& run_dir, const std::string& stage) {
  std::error_code ec;
  fs::remove_all(tasks_dir(run_dir, stage), ec);
  if (ec) throw IoError("cannot remove '" + tasks_dir(run_dir, stage) + "': " + ec.message());
}

void write_task_failure(const std::string& run_dir, const std::string& stage, int task, int exit_code,
                        const std::string& message) {
  nlohmann::json j;
  j["stage"] = stage;
  j["task"] = task;
  j["exit_code"] = exit_code;
  j["time"] = log::now_iso8601();
  j["host"] = this_host();
  j["message"] = message;
  j["log"] = task_log_path(run_dir, stage, task);
  j["log_tail"] = log_tail(task_log_path(run_dir, stage, task), 15);
  write_json_atomic(task_failure_path(run_dir, stage, task), j);
}

std::optional<nlohmann::json> read_task_failure(const std::string& run_dir, const std::string& stage, int task) {
  const std::string path = task_failure_path(run_dir, stage, task);
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  try {
    return read_json(path);
  } catch (const Error&) {
    return std::nullopt;
  }
}

std::string index_ranges(const std::vector<int>& indices) {
  std::string out;
  size_t i = 0;
  while (i < indices.size()) {
    size_t j = i;
    while (j + 1 < indices.size() && indices[j + 1] == indices[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += std::to_string(indices[i]);
    if (j > i) out += "-" + std::to_string(indices[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace sg::graph
