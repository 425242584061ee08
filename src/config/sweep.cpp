#include "config/sweep.h"

#include <filesystem>
#include <map>
#include <set>

#include "config/toml_util.h"
#include "core/error.h"
#include "core/text.h"

namespace fs = std::filesystem;

namespace sg::config {

namespace {

// The TOML text of a value, as a curriculum override accepts it ("2e-05", "\"Cats\"", "[0.0, 0.9]").
std::string toml_text(const nlohmann::json& v) {
  if (v.is_string()) return v.dump();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number_float()) {
    std::string s = v.dump();
    if (s.find_first_of(".eE") == std::string::npos) s += ".0";
    return s;
  }
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + toml_text(v[i]);
  return s + "]";
}

std::string value_label(const nlohmann::json& v) {
  std::string raw = v.is_string() ? v.get<std::string>() : v.dump();
  std::string out;
  for (char c : raw) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '-' || c == '+';
    out += ok ? c : '_';
  }
  if (out.size() > 24) out = out.substr(0, 24);
  return out.empty() ? "_" : out;
}

SweepKey parse_key(const std::string& file, const toml::node& n, const std::string& key) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i <= key.size(); ++i)
    if (i == key.size() || key[i] == '.') {
      parts.push_back(key.substr(start, i - start));
      start = i + 1;
    }
  for (const auto& p : parts)
    if (p.empty()) fail_at(file, n, key, "expected stage.param or stage.curriculum.key");
  SweepKey k;
  k.key = key;
  k.where = where(file, n);
  k.stage = parts[0];
  if (parts.size() == 2) {
    k.param = parts[1];
  } else if (parts.size() >= 3 && parts[1] == "curriculum") {
    k.param = "set";
    std::string rest;
    for (size_t i = 2; i < parts.size(); ++i) rest += (i > 2 ? "." : "") + parts[i];
    k.curriculum_key = rest;
  } else {
    fail_at(file, n, key, "expected stage.param or stage.curriculum.key (e.g. train.seed, train.curriculum.gen_lr)");
  }
  return k;
}

}  // namespace

Sweep load_sweep(const std::string& path) {
  if (!fs::is_regular_file(path)) throw ConfigError("sweep file '" + path + "' does not exist");
  const toml::table root = parse_toml_file(path);
  check_keys(path, root, {"sweep", "grid", "zip"}, "");
  Sweep s;
  s.file = path;
  const toml::node* sn = root.get("sweep");
  if (!sn || !sn->as_table()) throw ConfigError(path + ": missing [sweep] with name and pipeline");
  const toml::table& st = *sn->as_table();
  check_keys(path, st, {"name", "pipeline", "gather", "metrics", "sort_by", "out"}, "sweep");
  s.name = get_string(path, st, "name", "sweep.name").value_or(fs::path(path).stem().string());
  for (char c : s.name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      fail_at(path, st.get("name") ? *st.get("name") : static_cast<const toml::node&>(st), "sweep.name",
              "'" + s.name + "' is not a valid name: use letters, digits, '_' and '-'");
  auto pipe = get_string(path, st, "pipeline", "sweep.pipeline");
  if (!pipe) fail_at(path, st, "sweep", "missing key 'pipeline' (the base pipeline file)");
  fs::path pp(*pipe);
  if (pp.is_relative()) pp = fs::absolute(path).parent_path() / pp;
  s.pipeline = pp.lexically_normal().string();
  s.gather = get_bool(path, st, "gather", "sweep.gather").value_or(true);
  s.metrics = get_string(path, st, "metrics", "sweep.metrics").value_or(s.metrics);
  s.sort_by = get_string(path, st, "sort_by", "sweep.sort_by").value_or("");
  s.out = get_string(path, st, "out", "sweep.out").value_or("");

  // Grid keys (cartesian), then zip keys (together).
  std::vector<std::vector<nlohmann::json>> grid_values;
  std::vector<size_t> grid_keys, zip_keys;
  std::vector<std::vector<nlohmann::json>> zip_values;
  size_t zip_len = 0;
  std::set<std::string> seen;
  for (const char* section : {"grid", "zip"}) {
    const toml::node* n = root.get(section);
    if (!n) continue;
    const toml::table* t = n->as_table();
    if (!t) fail_at(path, *n, section, std::string("expected a table [") + section + "]");
    for (const auto& [k, v] : *t) {
      const std::string key(k.str());
      const std::string ctx = std::string(section) + "." + key;
      if (!seen.insert(key).second) fail_at(path, v, ctx, "'" + key + "' is varied twice (in [grid] and [zip])");
      const toml::array* a = v.as_array();
      if (!a || a->empty()) fail_at(path, v, ctx, "expected a non-empty array of values");
      std::vector<nlohmann::json> vals;
      for (const auto& e : *a) vals.push_back(toml_to_json(path, e, ctx, /*tables=*/false));
      s.keys.push_back(parse_key(path, v, key));
      if (std::string(section) == "grid") {
        grid_keys.push_back(s.keys.size() - 1);
        grid_values.push_back(vals);
      } else {
        if (zip_len && vals.size() != zip_len)
          fail_at(path, v, ctx, "has " + std::to_string(vals.size()) + " values; every [zip] list must have " +
                                    std::to_string(zip_len));
        zip_len = vals.size();
        zip_keys.push_back(s.keys.size() - 1);
        zip_values.push_back(vals);
      }
    }
  }
  if (s.keys.empty()) throw ConfigError(path + ": nothing varies: add a [grid] or [zip] table");
  // Enumerate: grid points in odometer order (last key fastest), each with every zip index.
  size_t grid_total = 1;
  for (const auto& v : grid_values) grid_total *= v.size();
  if (grid_total * std::max<size_t>(zip_len, 1) > 1000000) throw ConfigError(path + ": more than a million points");
  std::set<std::string> used;
  for (size_t n = 0; n < grid_total; ++n) {
    std::vector<size_t> idx(grid_keys.size());
    size_t rest = n;
    for (size_t g = grid_keys.size(); g-- > 0;) {
      idx[g] = rest % grid_values[g].size();
      rest /= grid_values[g].size();
    }
    for (size_t z = 0; z < std::max<size_t>(zip_len, 1); ++z) {
      SweepPoint p;
      for (size_t g = 0; g < grid_keys.size(); ++g) p.values.push_back({grid_keys[g], grid_values[g][idx[g]]});
      if (zip_len)
        for (size_t k = 0; k < zip_keys.size(); ++k) p.values.push_back({zip_keys[k], zip_values[k][z]});
      for (const auto& [ki, v] : p.values) {
        const SweepKey& key = s.keys[ki];
        const std::string label = key.curriculum_key.empty() ? key.param : key.curriculum_key;
        p.name += (p.name.empty() ? "" : "_") + value_label(label) + "-" + value_label(v);
      }
      if (p.name.size() > 100) p.name = p.name.substr(0, 100);
      if (p.name[0] == '_' || p.name[0] == '.' || p.name[0] == '-') p.name = "p" + p.name;
      // Distinct values that read the same after cleaning get a counter, the first free one:
      // a value may itself read like a counted name ("a b", "a_b", "a_b-2"), and two points in
      // one run directory would be two writers. Points are enumerated in file order, so the
      // names are the same every time the file is read.
      if (used.count(p.name)) {
        int c = 2;
        while (used.count(p.name + "-" + std::to_string(c))) ++c;
        p.name += "-" + std::to_string(c);
      }
      used.insert(p.name);
      s.points.push_back(std::move(p));
    }
  }
  return s;
}

Pipeline point_pipeline(const Sweep& sweep, const Pipeline& base, const SweepPoint& p) {
  Pipeline out = base;
  for (const auto& [ki, v] : p.values) {
    const SweepKey& k = sweep.keys[ki];
    StageDecl* st = nullptr;
    for (auto& s : out.stages)
      if (s.name == k.stage) st = &s;
    if (!st) throw ConfigError(k.where + ": " + k.key + ": " + unknown_name_message("stage", k.stage, stage_names(base)));
    if (k.param == "name" || k.param == "kind" || k.param == "after")
      throw ConfigError(k.where + ": " + k.key + ": '" + k.param + "' cannot vary in a sweep");
    if (!k.curriculum_key.empty()) {
      ParamValue& pv = st->params["set"];
      if (pv.value.is_null()) pv.value = nlohmann::json::array();
      if (!pv.value.is_array()) throw ConfigError(k.where + ": " + k.key + ": stage " + k.stage + "'s `set` is not a list");
      pv.value.push_back(k.curriculum_key + "=" + toml_text(v));
      pv.where = k.where;
    } else if (k.param == "ranks") {
      if (!v.is_number_integer() || v.get<int64_t>() < 1) throw ConfigError(k.where + ": " + k.key + ": expected an integer >= 1");
      st->ranks = static_cast<int>(v.get<int64_t>());
    } else {
      st->params[k.param] = ParamValue{v, k.where};
    }
  }
  return out;
}

nlohmann::json point_json(const Sweep& sweep, const SweepPoint& p) {
  nlohmann::json point = nlohmann::json::object();
  for (const auto& [ki, v] : p.values) point[sweep.keys[ki].key] = v;
  return {{"sweep", sweep.name}, {"run", p.name}, {"point", point}};
}

}  // namespace sg::config
