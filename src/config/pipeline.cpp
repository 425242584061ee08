#include "config/pipeline.h"

#include <algorithm>
#include <filesystem>
#include <functional>

#include "config/toml_util.h"
#include "core/error.h"
#include "core/text.h"

namespace sg::config {

static bool valid_stage_name(const std::string& s) {
  if (s.empty() || s == "state" || s == "logs") return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

Override parse_override(const std::string& arg) {
  const auto eq = arg.find('=');
  const auto dot = arg.find('.');
  if (eq == std::string::npos || dot == std::string::npos || dot > eq || dot == 0 || dot + 1 == eq)
    throw ConfigError("--set " + arg + ": expected stage.key=value, e.g. --set train.steps=200");
  return {arg.substr(0, dot), arg.substr(dot + 1, eq - dot - 1), arg.substr(eq + 1)};
}

static StageDecl parse_stage(const std::string& file, const toml::table& t, size_t index) {
  StageDecl s;
  const std::string ctx = "stage[" + std::to_string(index) + "]";
  auto name = get_string(file, t, "name", ctx + ".name");
  if (!name) fail_at(file, t, ctx, "missing key 'name' (the stage's name)");
  s.name = *name;
  s.where = where(file, *t.get("name"));
  if (!valid_stage_name(s.name))
    fail_at(file, *t.get("name"), ctx + ".name",
            "'" + s.name + "' is not a valid stage name: use letters, digits, '_' and '-', and "
            "not 'state' or 'logs' (they are directories of the run)");
  auto kind = get_string(file, t, "kind", s.name + ".kind");
  if (!kind) fail_at(file, *t.get("name"), s.name, "missing key 'kind' (what the stage does)");
  s.kind = *kind;
  s.kind_where = where(file, *t.get("kind"));
  if (const toml::node* a = t.get("after")) {
    const toml::array* arr = a->as_array();
    if (!arr) fail_at(file, *a, s.name + ".after", "expected an array of stage names, e.g. after = [\"shard\"]");
    for (const auto& e : *arr) {
      auto v = e.value_exact<std::string>();
      if (!v) fail_at(file, e, s.name + ".after", "expected stage names (strings)");
      if (std::find(s.after.begin(), s.after.end(), *v) != s.after.end())
        fail_at(file, e, s.name + ".after", "'" + *v + "' is listed twice");
      s.after.push_back(*v);
    }
  }
  if (auto r = get_int(file, t, "ranks", s.name + ".ranks")) {
    if (*r < 1 || *r > 100000) fail_at(file, *t.get("ranks"), s.name + ".ranks", "expected an integer >= 1");
    s.ranks = static_cast<int>(*r);
  }
  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    if (key == "name" || key == "kind" || key == "after" || key == "ranks") continue;
    s.params[key] = ParamValue{toml_to_json(file, v, s.name + "." + key, /*tables=*/true), where(file, v)};
  }
  return s;
}

static void apply_override(Pipeline& p, const Override& o) {
  StageDecl* s = nullptr;
  for (auto& st : p.stages)
    if (st.name == o.stage) s = &st;
  const std::string arg = "--set " + o.stage + "." + o.key;
  if (!s) throw ConfigError(arg + ": " + unknown_name_message("stage", o.stage, stage_names(p)));
  if (o.key == "name" || o.key == "kind" || o.key == "after")
    throw ConfigError(arg + ": '" + o.key + "' cannot be overridden; edit " + p.file);
  const toml::table t = parse_override_value(o.stage + "." + o.key, o.value);
  const toml::node& n = *t.get("v");
  if (o.key == "ranks") {
    auto r = n.value_exact<int64_t>();
    if (!r || *r < 1) throw ConfigError(arg + ": expected an integer >= 1, got '" + o.value + "'");
    s->ranks = static_cast<int>(*r);
    return;
  }
  s->params[o.key] = ParamValue{toml_to_json(arg, n, o.stage + "." + o.key, /*tables=*/true), arg};
}

// Dependencies must name stages, and the graph must be acyclic. Reports the cycle itself.
static void check_graph(const Pipeline& p) {
  std::map<std::string, const StageDecl*> by_name;
  for (const auto& s : p.stages) by_name[s.name] = &s;
  for (const auto& s : p.stages)
    for (const auto& d : s.after) {
      if (d == s.name) throw ConfigError(s.where + ": " + s.name + ".after: a stage cannot depend on itself");
      if (!by_name.count(d))
        throw ConfigError(s.where + ": " + s.name + ".after: " +
                          unknown_name_message("stage", d, stage_names(p)));
    }
  std::map<std::string, int> color;  // 0 unvisited, 1 on the stack, 2 finished
  std::vector<std::string> stack;
  std::function<void(const StageDecl&)> visit = [&](const StageDecl& s) {
    color[s.name] = 1;
    stack.push_back(s.name);
    for (const auto& d : s.after) {
      if (color[d] == 1) {
        auto from = std::find(stack.begin(), stack.end(), d);
        std::vector<std::string> cycle(from, stack.end());
        cycle.push_back(d);
        throw ConfigError(by_name[d]->where + ": dependency cycle: " + join(cycle, " -> "));
      }
      if (color[d] == 0) visit(*by_name[d]);
    }
    stack.pop_back();
    color[s.name] = 2;
  };
  for (const auto& s : p.stages)
    if (color[s.name] == 0) visit(s);
}

static Pipeline from_table(const toml::table& root, const std::string& file,
                           const std::vector<Override>& overrides) {
  Pipeline p;
  p.file = file;
  check_keys(file, root, {"pipeline", "stage"}, "");
  p.name = std::filesystem::path(file).stem().string();
  if (const toml::node* pn = root.get("pipeline")) {
    const toml::table* pt = pn->as_table();
    if (!pt) fail_at(file, *pn, "pipeline", "expected a table: [pipeline]");
    check_keys(file, *pt, {"name", "ranks"}, "pipeline");
    if (auto n = get_string(file, *pt, "name", "pipeline.name")) {
      if (!valid_stage_name(*n))
        fail_at(file, *pt->get("name"), "pipeline.name",
                "'" + *n + "' is not a valid name: use letters, digits, '_' and '-'");
      p.name = *n;
    }
    if (auto r = get_int(file, *pt, "ranks", "pipeline.ranks")) {
      if (*r < 1 || *r > 100000) fail_at(file, *pt->get("ranks"), "pipeline.ranks", "expected an integer >= 1");
      p.ranks = static_cast<int>(*r);
    }
  }
  const toml::node* sn = root.get("stage");
  if (!sn) throw ConfigError(file + ": no stages: add at least one [[stage]] with a name and a kind");
  const toml::array* arr = sn->as_array();
  if (!arr || !arr->is_array_of_tables())
    fail_at(file, *sn, "stage", "expected [[stage]] tables, one per stage");
  size_t i = 0;
  for (const auto& e : *arr) {
    StageDecl s = parse_stage(file, *e.as_table(), i++);
    for (const auto& other : p.stages)
      if (other.name == s.name)
        throw ConfigError(s.where + ": stage name '" + s.name + "' is used twice (first at " + other.where + ")");
    p.stages.push_back(std::move(s));
  }
  for (const auto& o : overrides) apply_override(p, o);
  check_graph(p);
  return p;
}

Pipeline load_pipeline(const std::string& path, const std::vector<Override>& overrides) {
  if (!std::filesystem::is_regular_file(path)) throw ConfigError("pipeline file '" + path + "' does not exist");
  return from_table(parse_toml_file(path), path, overrides);
}

Pipeline parse_pipeline(const std::string& text, const std::string& source_name,
                        const std::vector<Override>& overrides) {
  return from_table(parse_toml_string(text, source_name), source_name, overrides);
}

const StageDecl* find_stage(const Pipeline& p, const std::string& name) {
  for (const auto& s : p.stages)
    if (s.name == name) return &s;
  return nullptr;
}

std::vector<std::string> stage_names(const Pipeline& p) {
  std::vector<std::string> out;
  for (const auto& s : p.stages) out.push_back(s.name);
  return out;
}

}  // namespace sg::config
