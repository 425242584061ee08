#include "graph/sweep_runs.h"

#include <algorithm>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_file.h"
#include "graph/state_store.h"

namespace fs = std::filesystem;

namespace sg::graph {

SweepRuns plan_sweep(const config::Sweep& sweep, const std::string& runs_root) {
  SweepRuns r;
  r.root = (fs::absolute(runs_root) / sweep.name).lexically_normal().string();
  r.shared_dir = r.root + "/_shared";
  const config::Pipeline base = config::load_pipeline(sweep.pipeline);
  for (const auto& p : sweep.points) {
    config::Pipeline pp = config::point_pipeline(sweep, base, p);
    pp.name = p.name;
    r.graphs.push_back(build_graph(pp));
    r.dirs.push_back(r.root + "/" + p.name);
  }
  if (r.graphs.size() < 2) return r;
  // Shared: the same fingerprint in every point (the fingerprint covers the inputs, so a shared
  // stage's dependencies are shared too).
  const JobGraph& g0 = r.graphs.front();
  config::Pipeline shared_p = config::point_pipeline(sweep, base, sweep.points.front());
  shared_p.name = sweep.name + "-shared";
  shared_p.stages.clear();
  for (const auto& s : g0.stages) {
    bool same = true;
    for (const auto& g : r.graphs) {
      const Stage* o = g.find(s.name);
      same = same && o && o->fingerprint == s.fingerprint;
      if (!same) break;
    }
    if (!same) continue;
    r.shared.push_back(s.name);
    for (const auto& d : config::point_pipeline(sweep, base, sweep.points.front()).stages)
      if (d.name == s.name) shared_p.stages.push_back(d);
  }
  if (!r.shared.empty()) r.shared_graph = build_graph(shared_p);
  return r;
}

// A link of the point's that is not (or no longer) the one it should be is removed, so the
// point's stage never writes through it into _shared, where other points read that stage.
static void unlink_if_link(const std::string& link, const std::string& keep_target) {
  std::error_code ec;
  if (!fs::is_symlink(fs::symlink_status(link, ec))) return;
  if (!keep_target.empty() && fs::read_symlink(link, ec).string() == keep_target) return;
  fs::remove(link, ec);
  if (ec) throw IoError("cannot remove the stale link '" + link + "': " + ec.message());
}

static void symlink_if_absent(const std::string& target, const std::string& link) {
  unlink_if_link(link, target);
  std::error_code ec;
  if (fs::symlink_status(link, ec).type() != fs::file_type::not_found) return;
  fs::create_directory_symlink(target, link, ec);  // works for files too on POSIX
  if (ec) throw IoError("cannot link '" + link + "' to '" + target + "': " + ec.message());
}

void link_shared(const config::Sweep& sweep, const SweepRuns& r, size_t i) {
  const std::string dir = r.dirs[i];
  create_dirs(state_dir(dir));
  // Stages the point computes itself: a link left by an earlier version of the sweep, when
  // they were shared, would make them overwrite the shared results.
  for (const auto& st : r.graphs[i].stages) {
    if (std::find(r.shared.begin(), r.shared.end(), st.name) != r.shared.end()) continue;
    unlink_if_link(stage_dir(dir, st.name), "");
    unlink_if_link(marker_path(dir, st.name), "");
  }
  for (const auto& s : r.shared) {
    create_dirs(stage_dir(r.shared_dir, s));
    // Relative links, so the sweep folder can be moved as a whole.
    symlink_if_absent("../_shared/" + s, stage_dir(dir, s));
    symlink_if_absent("../../_shared/state/" + s + ".json", marker_path(dir, s));
  }
  const nlohmann::json j = config::point_json(sweep, sweep.points[i]);
  const std::string path = dir + "/sweep.json";
  std::error_code ec;
  if (!fs::exists(path, ec) || read_json(path) != j) write_json_atomic(path, j);
}

}  // namespace sg::graph
