#include "graph/shared_stages.h"

#include <unordered_map>

#include "core/error.h"

namespace sg::graph {

std::vector<SharedStage> shared_stages(const std::vector<JobGraph>& graphs, const CopyDone& done) {
  std::vector<SharedStage> out;
  if (graphs.empty()) return out;
  // (stage, fingerprint) -> copy index, to find a copy's upstream copies.
  std::map<std::pair<std::string, std::string>, size_t> index;
  const JobGraph& g0 = graphs.front();
  for (const Stage& s : g0.stages) {
    // Points by this stage's fingerprint, each group in first-point order.
    std::unordered_map<std::string, size_t> group_of;
    std::vector<SharedStage> groups;
    for (size_t p = 0; p < graphs.size(); ++p) {
      const Stage* st = graphs[p].find(s.name);
      if (!st)
        throw Error(ExitCode::failed, "sweep: point " + std::to_string(p) + " has no stage '" + s.name +
                    "' (every point is built from one pipeline, so every point has the same stages)");
      auto [it, fresh] = group_of.emplace(st->fingerprint, groups.size());
      if (fresh) groups.push_back({s.name, st->fingerprint, {}, {}});
      groups[it->second].points.push_back(p);
    }
    for (auto& c : groups) {
      const bool alone = c.points.size() < 2;
      if (alone && !(done && done(c.stage, c.fingerprint))) continue;
      // Equal fingerprints mean equal input fingerprints, so each dependency is a copy shared
      // by these points already; its own upstream copies are this one's too.
      const JobGraph& g = graphs[c.points.front()];
      const Stage& st = *g.find(s.name);
      bool inputs_shared = true;
      for (size_t d : st.deps) {
        const Stage& dep = g.stages[d];
        auto up = index.find({dep.name, dep.fingerprint});
        if (up == index.end()) {
          inputs_shared = false;
          break;
        }
        c.upstream[dep.name] = up->second;
        for (const auto& kv : out[up->second].upstream) c.upstream.insert(kv);
      }
      // A done copy whose inputs are not copies (removed by hand): the point computes it.
      if (!inputs_shared && alone) continue;
      if (!inputs_shared)
        throw Error(ExitCode::failed, "sweep: stage '" + s.name + "' is shared by points that do not share its inputs" +
                                          " (a fingerprint that does not cover its inputs?)");
      index[{c.stage, c.fingerprint}] = out.size();
      out.push_back(std::move(c));
    }
  }
  return out;
}

std::vector<std::map<std::string, size_t>> shared_by_point(const std::vector<SharedStage>& copies, size_t points) {
  std::vector<std::map<std::string, size_t>> out(points);
  for (size_t k = 0; k < copies.size(); ++k)
    for (size_t p : copies[k].points) out.at(p)[copies[k].stage] = k;
  return out;
}

}  // namespace sg::graph
