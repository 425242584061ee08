#include "config/toml_util.h"

#include <sstream>

#include "core/error.h"
#include "core/text.h"

namespace sg::config {

toml::table parse_toml_file(const std::string& path) {
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    if (!b) throw ConfigError("'" + path + "': " + std::string(e.description()));
    throw ConfigError(path + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) +
                      ": TOML syntax error: " + std::string(e.description()));
  }
}

toml::table parse_toml_string(const std::string& text, const std::string& source_name) {
  try {
    return toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw ConfigError(source_name + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) +
                      ": TOML syntax error: " + std::string(e.description()));
  }
}

std::string where(const std::string& file, const toml::node& node) {
  // A node parsed from somewhere else (a --set override) is named by its own source, not by a
  // line of `file` that it never came from.
  const auto& path = node.source().path;
  if (path && *path != file) return *path;
  const auto& b = node.source().begin;
  if (!b) return file;
  return file + ":" + std::to_string(b.line);
}

void fail_at(const std::string& file, const toml::node& node, const std::string& key,
             const std::string& message) {
  throw ConfigError(where(file, node) + ": " + key + ": " + message);
}

void check_keys(const std::string& file, const toml::table& table,
                const std::vector<std::string>& allowed, const std::string& context) {
  for (const auto& [k, node] : table) {
    const std::string key(k.str());
    bool ok = false;
    for (const auto& a : allowed) ok = ok || a == key;
    if (!ok) {
      const std::string full = context.empty() ? key : context + "." + key;
      fail_at(file, node, full, unknown_name_message("key", key, allowed));
    }
  }
}

static const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "a date/time";
  }
}

std::optional<double> get_double(const std::string& file, const toml::table& table,
                                 const std::string& key, const std::string& path) {
  const toml::node* n = table.get(key);
  if (!n) return std::nullopt;
  if (auto v = n->value_exact<double>()) return *v;
  if (auto v = n->value_exact<int64_t>()) return static_cast<double>(*v);
  fail_at(file, *n, path, std::string("expected a number, got ") + type_name(*n));
}

std::optional<int64_t> get_int(const std::string& file, const toml::table& table,
                               const std::string& key, const std::string& path) {
  const toml::node* n = table.get(key);
  if (!n) return std::nullopt;
  if (auto v = n->value_exact<int64_t>()) return *v;
  fail_at(file, *n, path, std::string("expected an integer, got ") + type_name(*n));
}

std::optional<bool> get_bool(const std::string& file, const toml::table& table,
                             const std::string& key, const std::string& path) {
  const toml::node* n = table.get(key);
  if (!n) return std::nullopt;
  if (auto v = n->value_exact<bool>()) return *v;
  fail_at(file, *n, path, std::string("expected true or false, got ") + type_name(*n));
}

std::optional<std::string> get_string(const std::string& file, const toml::table& table,
                                      const std::string& key, const std::string& path) {
  const toml::node* n = table.get(key);
  if (!n) return std::nullopt;
  if (auto v = n->value_exact<std::string>()) return *v;
  fail_at(file, *n, path, std::string("expected a string, got ") + type_name(*n));
}

toml::table parse_override_value(const std::string& key, const std::string& value) {
  // Try the value as a TOML value first (numbers, booleans, arrays, quoted strings); anything
  // that does not parse is taken as a bare string, so --set dataset=CelebA works unquoted.
  try {
    toml::table t = toml::parse("v = " + value, "--set " + key);
    return t;
  } catch (const toml::parse_error&) {
    // Re-parsed as a quoted string (rather than inserted) so the node keeps "--set key" as its
    // source for error messages.
    std::string quoted = "\"";
    for (char c : value) {
      if (c == '"' || c == '\\') quoted += '\\';
      if (c == '\n') { quoted += "\\n"; continue; }
      quoted += c;
    }
    quoted += '"';
    try {
      return toml::parse("v = " + quoted, "--set " + key);
    } catch (const toml::parse_error&) {
      toml::table t;
      t.insert("v", value);
      return t;
    }
  }
}

nlohmann::json toml_to_json(const std::string& file, const toml::node& n, const std::string& key, bool tables) {
  if (auto v = n.value_exact<std::string>()) return *v;
  if (auto v = n.value_exact<int64_t>()) return *v;
  if (auto v = n.value_exact<double>()) return *v;
  if (auto v = n.value_exact<bool>()) return *v;
  if (const toml::array* a = n.as_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : *a) out.push_back(toml_to_json(file, e, key, tables));
    return out;
  }
  if (!tables) fail_at(file, n, key, "expected a string, number, boolean or array");
  if (const toml::table* t = n.as_table()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, v] : *t)
      out[std::string(k.str())] = toml_to_json(file, v, key + "." + std::string(k.str()), tables);
    return out;
  }
  fail_at(file, n, key, "dates and times are not supported as parameters; use a string");
}

}  // namespace sg::config
