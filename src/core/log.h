#pragma once
// Logging: human lines to stderr (level set by -v/-q), and, once a JSON-lines file is attached,
// every line plus structured events to it, one JSON object per line. The file is what tools and
// `shadegan status` read; stderr is for people.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>

namespace sg::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3, quiet = 4 };

void set_level(Level level);
Level level();
// Tag lines with the MPI rank (only rank 0 prints info to stderr when size > 1).
void set_rank(int rank, int size);
// Append JSON lines to this file from now on (directories are created). Empty path detaches.
void attach_jsonl(const std::string& path);
const std::string& jsonl_path();

void write(Level level, const std::string& message);
// A structured record: {"t":..., "event": name, ...fields} to the JSON-lines file only.
void event(const std::string& name, nlohmann::json fields);

template <class... A> void debug(fmt::format_string<A...> f, A&&... a) {
  if (level() <= Level::debug) write(Level::debug, fmt::format(f, std::forward<A>(a)...));
}
template <class... A> void info(fmt::format_string<A...> f, A&&... a) {
  write(Level::info, fmt::format(f, std::forward<A>(a)...));
}
template <class... A> void warn(fmt::format_string<A...> f, A&&... a) {
  write(Level::warn, fmt::format(f, std::forward<A>(a)...));
}
template <class... A> void error(fmt::format_string<A...> f, A&&... a) {
  write(Level::error, fmt::format(f, std::forward<A>(a)...));
}

// Current UTC time as ISO 8601 with milliseconds, e.g. 2026-11-25T01:02:03.456Z.
std::string now_iso8601();

}  // namespace sg::log
