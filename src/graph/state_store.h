#pragma once
// The state of a run directory, as files (design.md "A run directory is the unit of state"):
//
//   <run>/run.toml                  the resolved pipeline (snapshot.h)
//   <run>/state/<stage>.json        done marker, written last and atomically by the stage
//   <run>/state/<stage>.failed.json the last failed attempt (exit code, time, end of its log)
//   <run>/state/<stage>.running.json the attempt in progress (pid, host); left behind by a kill
//   <run>/state/<stage>.preempted.json the last attempt stopped on a signal after saving its work
//                                   (exit 75): rerunning resumes it
//   <run>/state/<stage>.tasks/       fan-out stages' task markers (task_markers.h)
//   <run>/state/<stage>.slurm.json   Slurm submissions of the stage (exec/slurm_record.h)
//   <run>/state/run.lock            the orchestrator's lock (core/run_lock.h)
//   <run>/<stage>/                  the stage's outputs
//   <run>/logs/<stage>.log          the stage's process output; logs/<stage>.jsonl its log
//   <run>/logs/run.jsonl            the orchestrator's log
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace sg::graph {

std::string state_dir(const std::string& run_dir);
std::string marker_path(const std::string& run_dir, const std::string& stage);
std::string failure_path(const std::string& run_dir, const std::string& stage);
std::string running_path(const std::string& run_dir, const std::string& stage);
std::string preempted_path(const std::string& run_dir, const std::string& stage);
std::string lock_path(const std::string& run_dir);
std::string stage_dir(const std::string& run_dir, const std::string& stage);
std::string stage_log_path(const std::string& run_dir, const std::string& stage);
std::string stage_jsonl_path(const std::string& run_dir, const std::string& stage);
std::string run_jsonl_path(const std::string& run_dir);

struct OutputFile {
  std::string path;  // relative to the stage directory
  uint64_t size = 0;
  std::string hash;  // XXH3-128 hex
};

// What a dependency looked like when the stage ran: if the dependency is rebuilt later (even to
// the same fingerprint), its outputs digest changes and this stage is stale.
struct InputRecord {
  std::string fingerprint;
  std::string outputs_digest;
};

struct Marker {
  std::string stage, kind;
  int kind_version = 0;
  std::string fingerprint;
  nlohmann::json params;
  std::map<std::string, InputRecord> inputs;
  std::vector<OutputFile> outputs;
  std::string outputs_digest;
  std::string started, ended;  // ISO 8601 UTC
  double duration_s = 0;
  std::string host;
  int pid = 0;
  int ranks = 1;
  std::string job_id;  // Slurm job id; empty when run locally
};

nlohmann::json marker_to_json(const Marker& m);
Marker marker_from_json(const nlohmann::json& j, const std::string& path);  // FormatError
// nullopt when there is no marker; FormatError when it cannot be read.
std::optional<Marker> read_marker(const std::string& run_dir, const std::string& stage);
void write_marker(const std::string& run_dir, const Marker& m);  // atomic

// Every regular file under `dir` (recursively, sorted, temporary files of unfinished atomic
// writes excluded) with its size and hash.
std::vector<OutputFile> list_outputs(const std::string& dir);
std::string outputs_digest(const std::vector<OutputFile>& outputs);

// The end of a log: its last `max_lines` lines after the last attempt header (log_attempt_header).
std::vector<std::string> log_tail(const std::string& path, size_t max_lines);
// A line the executor writes to a stage's .log before each attempt, so tails show one attempt.
std::string log_attempt_header(const std::string& stage, const std::string& time);

// A failed attempt: exit code, time, message and the end of its log.
void write_failure(const std::string& run_dir, const std::string& stage, int exit_code,
                   const std::string& message);
// A state note (failure, preemption, running) at `path`: its JSON, or nothing when it is absent
// or unreadable (being replaced, or damaged by hand: the marker decides, not the note).
std::optional<nlohmann::json> read_state_note(const std::string& path);

std::optional<nlohmann::json> read_failure(const std::string& run_dir, const std::string& stage);

// A stage (or one task of it: task >= 0) stopped with the resumable exit code.
void write_preempted(const std::string& run_dir, const std::string& stage, int task, int exit_code);
std::optional<nlohmann::json> read_preempted(const std::string& run_dir, const std::string& stage);

// The attempt in progress: written by the stage when it starts, removed when it ends.
void write_running(const std::string& run_dir, const std::string& stage);
std::optional<nlohmann::json> read_running(const std::string& run_dir, const std::string& stage);
// True when the process the running file names is alive here and is a stage-exec.
bool running_alive(const nlohmann::json& running);

void remove_if_exists(const std::string& path);
std::string this_host();

}  // namespace sg::graph
