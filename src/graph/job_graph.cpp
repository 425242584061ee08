#include "graph/job_graph.h"

#include <filesystem>
#include <map>

#include "core/error.h"
#include "core/text.h"
#include "graph/fingerprint.h"

namespace fs = std::filesystem;

namespace sg::graph {

const Stage* JobGraph::find(const std::string& n) const {
  for (const auto& s : stages)
    if (s.name == n) return &s;
  return nullptr;
}

size_t JobGraph::index(const std::string& n) const {
  for (size_t i = 0; i < stages.size(); ++i)
    if (stages[i].name == n) return i;
  throw ConfigError(unknown_name_message("stage", n, names()));
}

std::vector<std::string> JobGraph::names() const {
  std::vector<std::string> out;
  for (const auto& s : stages) out.push_back(s.name);
  return out;
}

std::vector<bool> JobGraph::downstream(size_t i) const {
  std::vector<bool> out(stages.size(), false);
  out[i] = true;
  // Dependencies always come first, so one forward pass reaches everything downstream.
  for (size_t j = i + 1; j < stages.size(); ++j)
    for (size_t d : stages[j].deps) out[j] = out[j] || out[d];
  return out;
}

static const char* type_word(ParamType t) {
  switch (t) {
    case ParamType::integer: return "an integer";
    case ParamType::number: return "a number";
    case ParamType::boolean: return "true or false";
    case ParamType::string: return "a string";
    case ParamType::string_list: return "an array of strings";
    case ParamType::path: return "a path (string)";
  }
  return "?";
}

static const char* json_type_word(const nlohmann::json& v) {
  if (v.is_number_integer()) return "an integer";
  if (v.is_number_float()) return "a float";
  if (v.is_boolean()) return "a boolean";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  if (v.is_object()) return "a table";
  return "nothing";
}

// The value in its canonical type, or null when it has the wrong type.
static nlohmann::json coerce(ParamType t, const nlohmann::json& v) {
  switch (t) {
    case ParamType::integer:
      if (v.is_number_integer()) return v.get<int64_t>();
      break;
    case ParamType::number:
      // 1 and 1.0 are the same number and must give the same fingerprint.
      if (v.is_number()) return v.get<double>();
      break;
    case ParamType::boolean:
      if (v.is_boolean()) return v;
      break;
    case ParamType::string:
    case ParamType::path:
      if (v.is_string()) return v;
      break;
    case ParamType::string_list:
      if (v.is_array()) {
        for (const auto& e : v)
          if (!e.is_string()) return nullptr;
        return v;
      }
      break;
  }
  return nullptr;
}

static std::string absolute_path(const std::string& p, const std::string& base) {
  if (p.empty()) return p;
  fs::path path(p);
  if (path.is_relative()) path = fs::path(base) / path;
  return path.lexically_normal().string();
}

nlohmann::json resolve_params(const config::StageDecl& stage, const KindSpec& kind,
                              const std::string& base_dir) {
  std::vector<std::string> names;
  for (const auto& p : kind.params) names.push_back(p.name);
  for (const auto& [key, pv] : stage.params) {
    bool known = false;
    for (const auto& n : names) known = known || n == key;
    if (!known)
      throw ConfigError(pv.where + ": " + stage.name + "." + key + ": " +
                        unknown_name_message("parameter of kind '" + kind.name + "'", key, names));
  }
  nlohmann::json out = nlohmann::json::object();
  for (const auto& spec : kind.params) {
    auto it = stage.params.find(spec.name);
    if (it == stage.params.end()) {
      if (spec.default_value.is_null())
        throw ConfigError(stage.where + ": " + stage.name + ": missing required parameter '" +
                          spec.name + "' of kind '" + kind.name + "' (" + type_word(spec.type) +
                          (spec.help.empty() ? "" : ": " + spec.help) + ")");
      out[spec.name] = coerce(spec.type, spec.default_value);
      if (out[spec.name].is_null())
        throw Error(ExitCode::failed, "kind '" + kind.name + "': default of '" + spec.name +
                                          "' does not have its declared type");
      continue;
    }
    const auto& pv = it->second;
    nlohmann::json v = coerce(spec.type, pv.value);
    if (v.is_null())
      throw ConfigError(pv.where + ": " + stage.name + "." + spec.name + ": expected " +
                        type_word(spec.type) + ", got " + json_type_word(pv.value));
    if (spec.type == ParamType::path) {
      const bool from_cli = pv.where.rfind("--set", 0) == 0;
      v = absolute_path(v.get<std::string>(), from_cli ? fs::current_path().string() : base_dir);
    }
    out[spec.name] = std::move(v);
  }
  return out;
}

void check_params(const JobGraph& g) {
  for (const Stage& s : g.stages) {
    if (!s.kind->check) continue;
    try {
      s.kind->check(s.params);
    } catch (const ConfigError& e) {
      throw ConfigError(s.where + ": " + s.name + ": " + e.what());
    }
  }
}

JobGraph build_graph(const config::Pipeline& p) {
  JobGraph g;
  g.name = p.name;
  g.file = p.file;
  g.ranks = p.ranks;
  const std::string base_dir =
      fs::absolute(fs::path(p.file)).parent_path().lexically_normal().string();

  // Kahn's algorithm, always taking the earliest ready stage in file order, so the order is
  // stable and reads like the file. (config already rejected cycles and unknown names.)
  std::vector<bool> placed(p.stages.size(), false);
  std::map<std::string, size_t> index;
  while (g.stages.size() < p.stages.size()) {
    bool progressed = false;
    for (size_t i = 0; i < p.stages.size(); ++i) {
      if (placed[i]) continue;
      const auto& decl = p.stages[i];
      bool ready = true;
      for (const auto& d : decl.after) ready = ready && index.count(d);
      if (!ready) continue;
      Stage s;
      s.name = decl.name;
      s.where = decl.where;
      s.after = decl.after;
      try {
        s.kind = &find_kind(decl.kind);
      } catch (const ConfigError& e) {
        throw ConfigError(decl.kind_where + ": " + decl.name + ".kind: " + e.what());
      }
      s.params = resolve_params(decl, *s.kind, base_dir);
      s.ranks_set = decl.ranks;
      if (decl.ranks && !s.kind->mpi)
        throw ConfigError(decl.where + ": " + decl.name + ".ranks: kind '" + s.kind->name +
                          "' does not run under MPI, so ranks has no effect; remove it");
      s.ranks = s.kind->mpi ? decl.ranks.value_or(p.ranks) : 1;
      std::map<std::string, std::string> inputs;
      for (const auto& d : decl.after) {
        s.deps.push_back(index.at(d));
        inputs[d] = g.stages[index.at(d)].fingerprint;
      }
      s.fingerprint = fingerprint(s.kind->name, s.kind->version, s.params, inputs);
      index[s.name] = g.stages.size();
      g.stages.push_back(std::move(s));
      placed[i] = true;
      progressed = true;
      break;
    }
    if (!progressed) throw ConfigError(p.file + ": dependency cycle");  // unreachable after config
  }
  return g;
}

}  // namespace sg::graph
