#include "exec/slurm_profile.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "config/toml_util.h"
#include "core/error.h"
#include "core/text.h"

namespace fs = std::filesystem;

namespace sg::exec {

using namespace sg::config;

namespace {

std::vector<std::string> get_strings(const std::string& file, const toml::table& t, const std::string& key,
                                     const std::string& path) {
  std::vector<std::string> out;
  const toml::node* n = t.get(key);
  if (!n) return out;
  const toml::array* a = n->as_array();
  if (!a) fail_at(file, *n, path, "expected an array of strings");
  for (const auto& e : *a) {
    auto v = e.value_exact<std::string>();
    if (!v) fail_at(file, e, path, "expected an array of strings");
    out.push_back(*v);
  }
  return out;
}

// A value that reaches an sbatch option: one line (sbatch reads options, not a shell, but a
// newline would still split a #SBATCH-style option and is never meant).
std::string get_option(const std::string& file, const toml::table& t, const std::string& key,
                       const std::string& path, const std::string& fallback) {
  auto v = get_string(file, t, key, path);
  if (!v) return fallback;
  if (v->find('\n') != std::string::npos) fail_at(file, *t.get(key), path, "must be one line");
  return *v;
}

JobResources read_resources(const std::string& file, const toml::table& t, const std::string& ctx,
                            const JobResources& base, bool allow_requeue) {
  JobResources r = base;
  r.partition = get_option(file, t, "partition", ctx + ".partition", r.partition);
  r.account = get_option(file, t, "account", ctx + ".account", r.account);
  r.qos = get_option(file, t, "qos", ctx + ".qos", r.qos);
  r.time = get_option(file, t, "time", ctx + ".time", r.time);
  r.gres = get_option(file, t, "gres", ctx + ".gres", r.gres);
  r.mem = get_option(file, t, "mem", ctx + ".mem", r.mem);
  if (auto v = get_int(file, t, "cpus_per_task", ctx + ".cpus_per_task")) {
    if (*v < 0) fail_at(file, *t.get("cpus_per_task"), ctx + ".cpus_per_task", "expected an integer >= 0");
    r.cpus_per_task = static_cast<int>(*v);
  }
  if (auto v = get_int(file, t, "nodes", ctx + ".nodes")) {
    if (*v < 0) fail_at(file, *t.get("nodes"), ctx + ".nodes", "expected an integer >= 0");
    r.nodes = static_cast<int>(*v);
  }
  if (t.get("extra")) r.extra = get_strings(file, t, "extra", ctx + ".extra");
  if (allow_requeue)
    if (auto v = get_bool(file, t, "requeue", ctx + ".requeue")) r.requeue = *v;
  return r;
}

const std::vector<std::string> kResourceKeys = {"partition", "account", "qos", "time",  "gres",
                                                "mem",       "cpus_per_task", "nodes", "extra"};

}  // namespace

JobResources SlurmProfile::resources_for(const std::string& kind, const std::string& stage) const {
  if (auto it = stages.find(stage); it != stages.end()) return it->second;
  if (auto it = kinds.find(kind); it != kinds.end()) return it->second;
  return defaults;
}

SlurmProfile load_slurm_profile(const std::string& path) {
  if (!fs::is_regular_file(path)) throw ConfigError("Slurm profile '" + path + "' does not exist");
  const toml::table root = parse_toml_file(path);
  SlurmProfile p;
  p.file = path;
  check_keys(path, root, {"slurm", "kind", "stage"}, "");
  const toml::table empty;
  const toml::table* s = root.get("slurm") ? root.get("slurm")->as_table() : &empty;
  if (!s) fail_at(path, *root.get("slurm"), "slurm", "expected a table: [slurm]");
  std::vector<std::string> keys = kResourceKeys;
  for (const char* k : {"modules", "setup", "launcher", "launcher_args", "requeue_signal", "grace", "max_requeues",
                        "requeue_kinds", "max_array_size", "array_throttle", "shadegan", "template"})
    keys.push_back(k);
  check_keys(path, *s, keys, "slurm");
  p.defaults = read_resources(path, *s, "slurm", {}, false);
  p.modules = get_strings(path, *s, "modules", "slurm.modules");
  p.setup = get_strings(path, *s, "setup", "slurm.setup");
  if (auto v = get_string(path, *s, "launcher", "slurm.launcher")) {
    if (*v != "srun" && *v != "mpirun")
      fail_at(path, *s->get("launcher"), "slurm.launcher", "expected \"srun\" or \"mpirun\", got '" + *v + "'");
    p.launcher = *v;
  }
  p.launcher_args = get_strings(path, *s, "launcher_args", "slurm.launcher_args");
  if (auto v = get_string(path, *s, "requeue_signal", "slurm.requeue_signal")) {
    std::string sig = *v;
    if (sig.rfind("SIG", 0) == 0) sig = sig.substr(3);
    const std::vector<std::string> ok = {"USR1", "USR2", "TERM", "INT", "HUP", "URG"};
    if (std::find(ok.begin(), ok.end(), sig) == ok.end())
      fail_at(path, *s->get("requeue_signal"), "slurm.requeue_signal", unknown_name_message("signal", *v, ok));
    p.requeue_signal = sig;
  }
  if (auto v = get_int(path, *s, "grace", "slurm.grace")) {
    if (*v < 1 || *v > 65535) fail_at(path, *s->get("grace"), "slurm.grace", "expected seconds, 1..65535");
    p.grace = static_cast<int>(*v);
  }
  if (auto v = get_int(path, *s, "max_requeues", "slurm.max_requeues")) {
    if (*v < 0) fail_at(path, *s->get("max_requeues"), "slurm.max_requeues", "expected an integer >= 0");
    p.max_requeues = static_cast<int>(*v);
  }
  if (s->get("requeue_kinds")) p.requeue_kinds = get_strings(path, *s, "requeue_kinds", "slurm.requeue_kinds");
  if (auto v = get_int(path, *s, "max_array_size", "slurm.max_array_size")) {
    if (*v < 0 || *v == 1) fail_at(path, *s->get("max_array_size"), "slurm.max_array_size", "expected 0 (ask Slurm) or >= 2");
    p.max_array_size = static_cast<int>(*v);
  }
  if (auto v = get_int(path, *s, "array_throttle", "slurm.array_throttle")) {
    // 0 would read as "no limit" to some and "run nothing" to Slurm: say the key is left out.
    if (*v < 1)
      fail_at(path, *s->get("array_throttle"), "slurm.array_throttle",
              "expected a count of array tasks running at once, >= 1 (leave the key out for no limit), got " +
                  std::to_string(*v));
    p.array_throttle = static_cast<int>(*v);
  }
  p.shadegan = get_string(path, *s, "shadegan", "slurm.shadegan").value_or("");
  const std::string tmpl = get_string(path, *s, "template", "slurm.template").value_or("job.sh.tmpl");
  fs::path tp(tmpl);
  if (tp.is_relative()) tp = fs::absolute(path).parent_path() / tp;
  p.template_path = tp.lexically_normal().string();
  if (!fs::is_regular_file(p.template_path))
    fail_at(path, s->get("template") ? *s->get("template") : static_cast<const toml::node&>(*s), "slurm.template",
            "the batch script template '" + p.template_path + "' does not exist");

  std::vector<std::string> section_keys = kResourceKeys;
  section_keys.push_back("requeue");
  for (const char* section : {"kind", "stage"}) {
    const toml::node* n = root.get(section);
    if (!n) continue;
    const toml::table* t = n->as_table();
    if (!t) fail_at(path, *n, section, std::string("expected tables: [") + section + ".<name>]");
    for (const auto& [k, v] : *t) {
      const std::string name(k.str());
      const std::string ctx = std::string(section) + "." + name;
      const toml::table* kt = v.as_table();
      if (!kt) fail_at(path, v, ctx, "expected a table");
      check_keys(path, *kt, section_keys, ctx);
      // Each section is layered on [slurm]; a [stage.x] section replaces its kind's section.
      (std::string(section) == "kind" ? p.kinds : p.stages)[name] = read_resources(path, *kt, ctx, p.defaults, true);
    }
  }
  return p;
}

std::string default_profile_path(const std::string& exe) {
  if (const char* e = std::getenv("SG_SLURM_PROFILE"); e && *e) return e;
  std::vector<std::string> tried;
  if (!exe.empty()) {
    const fs::path p = fs::path(exe).parent_path().parent_path() / "slurm" / "local.toml";
    tried.push_back(p.lexically_normal().string());
    if (fs::is_regular_file(p)) return tried.back();
  }
  const fs::path cwd = fs::current_path() / "slurm" / "local.toml";
  tried.push_back(cwd.lexically_normal().string());
  if (fs::is_regular_file(cwd)) return tried.back();
  throw ConfigError("no Slurm site profile: pass --profile slurm/<site>.toml (tried " + join(tried, ", ") + ")");
}

}  // namespace sg::exec
