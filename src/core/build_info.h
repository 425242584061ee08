#pragma once
// What built this program: CMake's project version and the git commit of the sources
// (src/CMakeLists.txt sets both). Stage markers, checkpoints, eval's metrics.json and the results
// tables carry them, so numbers side by side say which code made them.
#include <nlohmann/json.hpp>

namespace sg {

const char* program_version();
const char* source_commit();  // 12 hex digits, or "unknown" when built outside a git checkout

// {"version": ..., "commit": ...}
nlohmann::json program_json();

}  // namespace sg
