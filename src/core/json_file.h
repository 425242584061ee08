#pragma once
// JSON files (markers, manifests, metrics): read with errors that name the file, written
// atomically and pretty-printed so people can read them too.
#include <nlohmann/json.hpp>
#include <string>

namespace sg {

nlohmann::json read_json(const std::string& path);  // IoError / FormatError naming the path
void write_json_atomic(const std::string& path, const nlohmann::json& j);

}  // namespace sg
