#include "core/json_file.h"

#include "core/atomic_file.h"
#include "core/error.h"

namespace sg {

nlohmann::json read_json(const std::string& path) {
  const std::string text = read_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw FormatError("'" + path + "' is not valid JSON: " + e.what());
  }
}

void write_json_atomic(const std::string& path, const nlohmann::json& j) {
  write_file_atomic(path, j.dump(2) + "\n");
}

}  // namespace sg
