#include "graph/planner.h"

#include <filesystem>
#include <set>

#include "core/error.h"
#include "core/hash.h"
#include "graph/task_markers.h"

namespace fs = std::filesystem;

namespace sg::graph {

size_t Plan::to_run() const {
  size_t n = 0;
  for (const auto& s : stages) n += s.run;
  return n;
}

// Parameter values as written in TOML/JSON: strings quoted, numbers bare.
static std::string show(const nlohmann::json& v) { return v.dump(); }

// Why a recorded marker's fingerprint differs from the stage's: the parameters, kind and
// inputs that changed, each named.
static void fingerprint_reasons(const Stage& s, const JobGraph& g, const Marker& m,
                                std::vector<std::string>& reasons) {
  const size_t before = reasons.size();
  if (m.kind != s.kind->name)
    reasons.push_back("kind changed from " + m.kind + " to " + s.kind->name);
  else if (m.kind_version != s.kind->version)
    reasons.push_back("kind " + s.kind->name + " version changed from " + std::to_string(m.kind_version) +
                      " to " + std::to_string(s.kind->version));
  std::set<std::string> keys;
  for (auto it = s.params.begin(); it != s.params.end(); ++it) keys.insert(it.key());
  if (m.params.is_object())
    for (auto it = m.params.begin(); it != m.params.end(); ++it) keys.insert(it.key());
  for (const auto& k : keys) {
    const bool now = s.params.contains(k);
    const bool then = m.params.is_object() && m.params.contains(k);
    if (now && then && s.params[k] != m.params[k])
      reasons.push_back("parameter " + k + " changed from " + show(m.params[k]) + " to " + show(s.params[k]));
    else if (now && !then)
      reasons.push_back("parameter " + k + " added (" + show(s.params[k]) + ")");
    else if (!now && then)
      reasons.push_back("parameter " + k + " removed (was " + show(m.params[k]) + ")");
  }
  std::set<std::string> deps(s.after.begin(), s.after.end());
  for (const auto& d : s.after) {
    auto it = m.inputs.find(d);
    if (it == m.inputs.end())
      reasons.push_back("input " + d + " added");
    else if (it->second.fingerprint != g.stages[g.index(d)].fingerprint)
      reasons.push_back("input " + d + " changed");
  }
  for (const auto& [d, rec] : m.inputs)
    if (!deps.count(d)) reasons.push_back("input " + d + " removed");
  if (reasons.size() == before) reasons.push_back("fingerprint changed");
}

static void output_reasons(const std::string& dir, const Marker& m, bool verify,
                           std::vector<std::string>& reasons) {
  size_t bad = 0;
  auto add = [&](const std::string& r) {
    if (++bad <= 3) reasons.push_back(r);
  };
  for (const auto& o : m.outputs) {
    const std::string path = dir + "/" + o.path;
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec) {
      add("output " + o.path + " missing");
    } else if (size != o.size) {
      add("output " + o.path + " size changed from " + std::to_string(o.size) + " to " + std::to_string(size));
    } else if (verify && hash_file(path) != o.hash) {
      add("output " + o.path + " content changed (hash differs)");
    }
  }
  if (bad > 3) reasons.push_back("and " + std::to_string(bad - 3) + " more outputs missing or changed");
}

Plan plan(const JobGraph& g, const std::string& run_dir, const PlanOptions& options) {
  Plan p;
  p.stages.resize(g.stages.size());
  std::vector<bool> forced(g.stages.size(), false);
  for (const auto& f : options.force) forced[g.index(f)] = true;

  for (size_t i = 0; i < g.stages.size(); ++i) {
    const Stage& s = g.stages[i];
    StagePlan& sp = p.stages[i];
    auto& reasons = sp.reasons;
    sp.forced = forced[i];
    if (forced[i]) reasons.push_back("forced (--force " + s.name + ")");
    try {
      sp.marker = read_marker(run_dir, s.name);
    } catch (const FormatError& e) {
      reasons.push_back(std::string("marker unreadable: ") + e.what());
    }
    if (!sp.marker) {
      if (auto pr = read_preempted(run_dir, s.name)) {
        reasons.push_back("preempted at " + pr->value("time", "?") + " (saved its work; rerunning resumes it)");
      } else if (auto f = read_failure(run_dir, s.name)) {
        reasons.push_back("previous attempt failed (exit " + std::to_string(f->value("exit_code", 1)) + " at " +
                          f->value("time", "?") + ")");
      } else if (auto r = read_running(run_dir, s.name)) {
        reasons.push_back(running_alive(*r) ? "running now (pid " + std::to_string(r->value("pid", 0)) + ")"
                                            : "previous attempt was interrupted (started " +
                                                  r->value("started", "?") + ")");
      } else if (reasons.empty()) {
        reasons.push_back("new (never run)");
      }
      if (is_fanout(s)) {
        const auto done = tasks_done(g, i, run_dir);
        size_t n = 0;
        for (bool d : done) n += d;
        if (n > 0) reasons.push_back(std::to_string(n) + " of " + std::to_string(done.size()) + " tasks done");
      }
    } else {
      const Marker& m = *sp.marker;
      if (m.fingerprint != s.fingerprint) fingerprint_reasons(s, g, m, reasons);
      for (size_t d : s.deps) {
        const Stage& dep = g.stages[d];
        const StagePlan& dp = p.stages[d];
        if (dp.run) {
          reasons.push_back("input " + dep.name + " will rerun");
          continue;
        }
        auto it = m.inputs.find(dep.name);
        if (it != m.inputs.end() && dp.marker && it->second.fingerprint == dep.fingerprint &&
            it->second.outputs_digest != dp.marker->outputs_digest)
          reasons.push_back("input " + dep.name + " was rebuilt since this stage ran");
      }
      output_reasons(stage_dir(run_dir, s.name), m, options.verify, reasons);
    }
    sp.run = !reasons.empty();
  }
  return p;
}

}  // namespace sg::graph
