#pragma once
// The one place TOML is read: parse errors, unknown keys, wrong types and out-of-range values
// all become ConfigError "<file>:<line>: <key>: <what was expected>" (exit 2). Callers describe
// what they accept; they never format locations themselves.
#include <toml++/toml.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace sg::config {

// Parse a file; a syntax error names file:line:column.
toml::table parse_toml_file(const std::string& path);
toml::table parse_toml_string(const std::string& text, const std::string& source_name);

// "<file>:<line>" of a node (just "<file>" when the node has no source position).
std::string where(const std::string& file, const toml::node& node);
[[noreturn]] void fail_at(const std::string& file, const toml::node& node, const std::string& key,
                          const std::string& message);

// Reject keys of `table` not in `allowed`, naming the closest valid key and listing them all.
void check_keys(const std::string& file, const toml::table& table,
                const std::vector<std::string>& allowed, const std::string& context);

// Typed getters. `key` is looked up in `table`; `path` is the dotted name used in messages.
// Integers are accepted where floats are expected (2e-5 and 1 are both fine for a rate).
std::optional<double> get_double(const std::string& file, const toml::table& table,
                                 const std::string& key, const std::string& path);
std::optional<int64_t> get_int(const std::string& file, const toml::table& table,
                               const std::string& key, const std::string& path);
std::optional<bool> get_bool(const std::string& file, const toml::table& table,
                             const std::string& key, const std::string& path);
std::optional<std::string> get_string(const std::string& file, const toml::table& table,
                                      const std::string& key, const std::string& path);

// A TOML value as JSON: strings, integers, floats, booleans and arrays of them, and with
// `tables` inline tables too (a pipeline parameter may be a table; a sweep value may not).
// Anything else (dates, times; tables without `tables`) fails at the node, under `key`.
nlohmann::json toml_to_json(const std::string& file, const toml::node& n, const std::string& key, bool tables);

// Parse "value" from a --set key=value override into a TOML node of the natural type
// (true/false, integer, float, otherwise string; TOML arrays such as [0.0, 0.9] too).
toml::table parse_override_value(const std::string& key, const std::string& value);

}  // namespace sg::config
