#include "graph/state_store.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/build_info.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/json_file.h"
#include "core/log.h"

namespace fs = std::filesystem;

namespace sg::graph {

std::string state_dir(const std::string& r) { return r + "/state"; }
std::string marker_path(const std::string& r, const std::string& s) { return r + "/state/" + s + ".json"; }
std::string failure_path(const std::string& r, const std::string& s) { return r + "/state/" + s + ".failed.json"; }
std::string running_path(const std::string& r, const std::string& s) { return r + "/state/" + s + ".running.json"; }
std::string preempted_path(const std::string& r, const std::string& s) { return r + "/state/" + s + ".preempted.json"; }
std::string lock_path(const std::string& r) { return r + "/state/run.lock"; }
std::string stage_dir(const std::string& r, const std::string& s) { return r + "/" + s; }
std::string stage_log_path(const std::string& r, const std::string& s) { return r + "/logs/" + s + ".log"; }
std::string stage_jsonl_path(const std::string& r, const std::string& s) { return r + "/logs/" + s + ".jsonl"; }
std::string run_jsonl_path(const std::string& r) { return r + "/logs/run.jsonl"; }

std::string this_host() {
  char buf[256] = {0};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

void remove_if_exists(const std::string& path) {
  std::error_code ec;
  fs::remove(path, ec);
  if (ec) throw IoError("cannot remove '" + path + "': " + ec.message());
}

nlohmann::json marker_to_json(const Marker& m) {
  nlohmann::json j;
  j["stage"] = m.stage;
  j["kind"] = m.kind;
  j["kind_version"] = m.kind_version;
  j["fingerprint"] = m.fingerprint;
  j["params"] = m.params;
  j["inputs"] = nlohmann::json::object();
  for (const auto& [n, in] : m.inputs)
    j["inputs"][n] = {{"fingerprint", in.fingerprint}, {"outputs_digest", in.outputs_digest}};
  j["outputs"] = nlohmann::json::array();
  for (const auto& o : m.outputs) j["outputs"].push_back({{"path", o.path}, {"size", o.size}, {"xxh3", o.hash}});
  j["outputs_digest"] = m.outputs_digest;
  j["started"] = m.started;
  j["ended"] = m.ended;
  j["duration_s"] = m.duration_s;
  j["host"] = m.host;
  j["pid"] = m.pid;
  j["program"] = program_json();  // which code made these outputs
  j["ranks"] = m.ranks;
  j["job_id"] = m.job_id;
  return j;
}

Marker marker_from_json(const nlohmann::json& j, const std::string& path) {
  try {
    Marker m;
    m.stage = j.at("stage").get<std::string>();
    m.kind = j.at("kind").get<std::string>();
    m.kind_version = j.at("kind_version").get<int>();
    m.fingerprint = j.at("fingerprint").get<std::string>();
    m.params = j.at("params");
    for (auto it = j.at("inputs").begin(); it != j.at("inputs").end(); ++it)
      m.inputs[it.key()] = {it.value().at("fingerprint").get<std::string>(),
                            it.value().at("outputs_digest").get<std::string>()};
    for (const auto& o : j.at("outputs"))
      m.outputs.push_back({o.at("path").get<std::string>(), o.at("size").get<uint64_t>(),
                           o.at("xxh3").get<std::string>()});
    m.outputs_digest = j.at("outputs_digest").get<std::string>();
    m.started = j.value("started", "");
    m.ended = j.value("ended", "");
    m.duration_s = j.value("duration_s", 0.0);
    m.host = j.value("host", "");
    m.pid = j.value("pid", 0);
    m.ranks = j.value("ranks", 1);
    m.job_id = j.value("job_id", "");
    return m;
  } catch (const nlohmann::json::exception& e) {
    throw FormatError("'" + path + "' is not a stage marker: " + e.what());
  }
}

std::optional<Marker> read_marker(const std::string& run_dir, const std::string& stage) {
  const std::string path = marker_path(run_dir, stage);
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  return marker_from_json(read_json(path), path);
}

void write_marker(const std::string& run_dir, const Marker& m) {
  write_json_atomic(marker_path(run_dir, m.stage), marker_to_json(m));
}

static bool is_temporary(const std::string& name) {
  // temp_path_for() names: ".<name>.tmp-<pid>"; ".stage.lock": the lock a trainer holds on its
  // stage directory (train/checkpoint_layout.h), whose content names the holder.
  return (name.size() > 1 && name[0] == '.' && name.find(".tmp-") != std::string::npos) || name == ".stage.lock";
}

std::vector<OutputFile> list_outputs(const std::string& dir) {
  std::vector<OutputFile> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file() || is_temporary(it->path().filename().string())) continue;
    OutputFile f;
    f.path = fs::relative(it->path(), dir).string();
    f.size = it->file_size();
    f.hash = hash_file(it->path().string());
    out.push_back(std::move(f));
  }
  if (ec) throw IoError("cannot list '" + dir + "': " + ec.message());
  std::sort(out.begin(), out.end(), [](const OutputFile& a, const OutputFile& b) { return a.path < b.path; });
  return out;
}

std::string outputs_digest(const std::vector<OutputFile>& outputs) {
  Hasher h;
  for (const auto& o : outputs) {
    h.field(o.path);
    h.field(std::to_string(o.size));
    h.field(o.hash);
  }
  return h.hex();
}

std::string log_attempt_header(const std::string& stage, const std::string& time) {
  return "=== shadegan: stage " + stage + " started " + time + " ===";
}

std::vector<std::string> log_tail(const std::string& path, size_t max_lines) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("=== shadegan: stage ", 0) == 0) {
      lines.clear();
      continue;
    }
    lines.push_back(line);
    if (lines.size() > max_lines) lines.erase(lines.begin());
  }
  return lines;
}

void write_failure(const std::string& run_dir, const std::string& stage, int exit_code,
                   const std::string& message) {
  nlohmann::json j;
  j["stage"] = stage;
  j["exit_code"] = exit_code;
  j["time"] = log::now_iso8601();
  j["host"] = this_host();
  j["message"] = message;
  j["log"] = stage_log_path(run_dir, stage);
  j["log_tail"] = log_tail(stage_log_path(run_dir, stage), 15);
  write_json_atomic(failure_path(run_dir, stage), j);
}

std::optional<nlohmann::json> read_state_note(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  try {
    return read_json(path);
  } catch (const FormatError&) {
    return std::nullopt;  // a hand-damaged state file: treat as absent (the marker decides)
  }
}

std::optional<nlohmann::json> read_failure(const std::string& run_dir, const std::string& stage) {
  return read_state_note(failure_path(run_dir, stage));
}

void write_preempted(const std::string& run_dir, const std::string& stage, int task, int exit_code) {
  nlohmann::json j{{"stage", stage}, {"exit_code", exit_code}, {"time", log::now_iso8601()}, {"host", this_host()}};
  if (task >= 0) j["task"] = task;
  if (const char* r = std::getenv("SLURM_RESTART_COUNT")) j["slurm_restart_count"] = r;
  if (const char* id = std::getenv("SLURM_JOB_ID")) j["job_id"] = id;
  write_json_atomic(preempted_path(run_dir, stage), j);
}

std::optional<nlohmann::json> read_preempted(const std::string& run_dir, const std::string& stage) {
  return read_state_note(preempted_path(run_dir, stage));
}

void write_running(const std::string& run_dir, const std::string& stage) {
  write_json_atomic(running_path(run_dir, stage),
                    {{"stage", stage}, {"pid", ::getpid()}, {"host", this_host()}, {"started", log::now_iso8601()}});
}

std::optional<nlohmann::json> read_running(const std::string& run_dir, const std::string& stage) {
  return read_state_note(running_path(run_dir, stage));
}

bool running_alive(const nlohmann::json& running) {
  const int pid = running.value("pid", 0);
  if (pid <= 0 || running.value("host", "") != this_host()) return false;
  if (::kill(pid, 0) != 0 && errno != EPERM) return false;
  // The pid may have been reused since: it must still be a stage-exec.
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
  std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return cmdline.find("stage-exec") != std::string::npos;
}

}  // namespace sg::graph
