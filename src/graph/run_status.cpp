#include "graph/run_status.h"

#include "graph/planner.h"
#include "graph/task_markers.h"

namespace sg::graph {

const char* state_name(StageState s) {
  switch (s) {
    case StageState::done: return "done";
    case StageState::stale: return "stale";
    case StageState::failed: return "failed";
    case StageState::running: return "running";
    case StageState::not_started: return "not started";
    case StageState::preempted: return "preempted";
    case StageState::queued: return "queued";
  }
  return "?";
}

std::vector<StageStatus> run_status(const JobGraph& g, const std::string& run_dir, bool verify) {
  PlanOptions opt;
  opt.verify = verify;
  const Plan p = plan(g, run_dir, opt);
  std::vector<StageStatus> out;
  for (size_t i = 0; i < g.stages.size(); ++i) {
    const Stage& s = g.stages[i];
    const StagePlan& sp = p.stages[i];
    StageStatus st;
    st.name = s.name;
    st.kind = s.kind->name;
    st.marker = sp.marker;
    st.reasons = sp.reasons;
    st.tasks_total = stage_task_count(s);
    if (!sp.run) {
      st.tasks_done = st.tasks_total;
    } else if (is_fanout(s)) {
      const auto done = tasks_done(g, i, run_dir);
      for (size_t t = 0; t < done.size(); ++t) {
        st.tasks_done += done[t];
        if (!done[t] && read_task_failure(run_dir, s.name, static_cast<int>(t)))
          st.tasks_failed.push_back(static_cast<int>(t));
      }
    }
    auto running = read_running(run_dir, s.name);
    auto preempted = read_preempted(run_dir, s.name);
    if (running && running_alive(*running)) {
      st.state = StageState::running;
      st.running = running;
    } else if (!sp.run) {
      st.state = StageState::done;
    } else if (preempted) {
      st.state = StageState::preempted;
      st.preempted = preempted;
    } else if (auto f = read_failure(run_dir, s.name)) {
      st.state = StageState::failed;
      st.failure = f;
    } else if (!st.tasks_failed.empty()) {
      st.state = StageState::failed;
      st.failure = read_task_failure(run_dir, s.name, st.tasks_failed.front());
    } else if (sp.marker || running || st.tasks_done > 0) {
      st.state = StageState::stale;  // outdated, or its last attempt was interrupted
    } else {
      st.state = StageState::not_started;
      std::vector<std::string> waiting;
      for (size_t d : s.deps)
        if (p.stages[d].run) waiting.push_back(g.stages[d].name);
      st.reasons.clear();
      for (const auto& w : waiting) st.reasons.push_back("waits for " + w);
    }
    out.push_back(std::move(st));
  }
  return out;
}

nlohmann::json status_to_json(const std::vector<StageStatus>& stages) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& s : stages) {
    nlohmann::json j{{"name", s.name}, {"kind", s.kind}, {"state", state_name(s.state)}, {"reasons", s.reasons}};
    if (s.marker) {
      j["fingerprint"] = s.marker->fingerprint;
      j["started"] = s.marker->started;
      j["ended"] = s.marker->ended;
      j["duration_s"] = s.marker->duration_s;
    }
    if (s.failure) j["failure"] = *s.failure;
    if (s.running) j["running"] = *s.running;
    if (s.preempted) j["preempted"] = *s.preempted;
    j["tasks"] = {{"total", s.tasks_total}, {"done", s.tasks_done}, {"failed", s.tasks_failed}};
    if (!s.scheduler.empty()) j["scheduler"] = s.scheduler;
    arr.push_back(std::move(j));
  }
  return arr;
}

}  // namespace sg::graph
