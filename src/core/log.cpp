#include "core/log.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>

namespace sg::log {
namespace {

struct State {
  std::mutex mutex;
  Level level = Level::info;
  int rank = 0;
  int size = 1;
  std::string jsonl_path;
  std::ofstream jsonl;
};

State& state() {
  static State s;
  return s;
}

// Where a Slurm job's stage writes its lines: the job script exports SG_STAGE_LOG (the stage's
// log file) so that every rank appends there itself, one write() per line, instead of through
// mpirun's output forwarding: under preemption Slurm signals every process of the job, mpirun
// exits at once, and the ranks' last lines (that they stopped, what they saved) went nowhere.
// -1: not set (or not openable); lines go to stderr.
int stage_log_fd() {
  static const int fd = [] {
    const char* p = std::getenv("SG_STAGE_LOG");
    if (!p || !*p) return -1;
    return ::open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  }();
  return fd;
}

const char* name(Level l) {
  switch (l) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
    default: return "quiet";
  }
}

void append_json(State& s, const nlohmann::json& j) {
  if (!s.jsonl.is_open()) return;
  s.jsonl << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  s.jsonl.flush();
  if (!s.jsonl) {
    // Full disk, quota, I/O error: say so once on stderr (the human log) and stop trying, so
    // the JSON-lines log is known to be cut here rather than silently missing lines.
    const int e = errno;
    std::fprintf(stderr, "warning: cannot write the JSON-lines log %s (%s); further events are not recorded there\n",
                 s.jsonl_path.c_str(), std::strerror(e));
    s.jsonl.close();
  }
}

}  // namespace

void set_level(Level l) { state().level = l; }
Level level() { return state().level; }

void set_rank(int rank, int size) {
  state().rank = rank;
  state().size = size;
}

void attach_jsonl(const std::string& path) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.jsonl.is_open()) s.jsonl.close();
  s.jsonl_path = path;
  if (path.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  s.jsonl.open(path, std::ios::app);
}

const std::string& jsonl_path() { return state().jsonl_path; }

std::string now_iso8601() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  const std::time_t t = system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(ms));
}

void write(Level l, const std::string& message) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  // Other ranks only speak up for warnings and errors, so 2 ranks do not print everything twice.
  const bool to_stderr = l >= s.level && (s.rank == 0 || l >= Level::warn);
  if (to_stderr) {
    const char* tag = l == Level::warn ? "warning: " : l == Level::error ? "error: " : "";
    const std::string line = s.size > 1 ? fmt::format("[rank {}] {}{}\n", s.rank, tag, message)
                                        : fmt::format("{}{}\n", tag, message);
    const int fd = stage_log_fd();
    if (fd < 0 || ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
      std::fputs(line.c_str(), stderr);
  }
  if (l >= Level::info || s.level == Level::debug) {
    nlohmann::json j{{"t", now_iso8601()}, {"level", name(l)}, {"msg", message}};
    if (s.size > 1) j["rank"] = s.rank;
    append_json(s, j);
  }
}

void event(const std::string& event_name, nlohmann::json fields) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  nlohmann::json j{{"t", now_iso8601()}, {"event", event_name}};
  if (s.size > 1) j["rank"] = s.rank;
  if (fields.is_object())
    for (auto& [k, v] : fields.items()) j[k] = v;
  append_json(s, j);
}

}  // namespace sg::log
