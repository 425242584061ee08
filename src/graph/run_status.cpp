#include "graph/run_status.h"

#include "graph/planner.h"

namespace sg::graph {

const char* state_name(StageState s) {
  switch (s) {
    case StageState::done: return "done";
    case StageState::stale: return "stale";
    case StageState::failed: return "failed";
    case StageState::running: return "running";
    case StageState::not_started: return "not started";
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
    auto running = read_running(run_dir, s.name);
    if (running && running_alive(*running)) {
      st.state = StageState::running;
      st.running = running;
    } else if (!sp.run) {
      st.state = StageState::done;
    } else if (auto f = read_failure(run_dir, s.name)) {
      st.state = StageState::failed;
      st.failure = f;
    } else if (sp.marker || running) {
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
    arr.push_back(std::move(j));
  }
  return arr;
}

}  // namespace sg::graph
