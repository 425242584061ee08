#include "graph/sweep_runs.h"

#include <filesystem>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_file.h"
#include "core/log.h"
#include "core/run_lock.h"
#include "graph/state_store.h"
#include "graph/task_markers.h"

namespace fs = std::filesystem;

namespace sg::graph {

std::string copy_name(const std::string& stage, const std::string& fingerprint) {
  return stage + "-" + fingerprint.substr(0, 16);
}

// A point's name keeps '.' and '+' of its values ("gen_lr-0.0001"), which a pipeline's name
// may not have: the run.toml its stages are rebuilt from would be refused when read back.
static std::string pipeline_name(const std::string& point) {
  std::string out = point;
  for (char& c : out)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) c = '_';
  return out;
}

SweepRuns plan_sweep(const config::Sweep& sweep, const std::string& runs_root) {
  SweepRuns r;
  r.root = (fs::absolute(runs_root) / sweep.name).lexically_normal().string();
  r.shared_root = r.root + "/_shared";
  const config::Pipeline base = config::load_pipeline(sweep.pipeline);
  std::vector<JobGraph> graphs;
  for (const auto& p : sweep.points) {
    config::Pipeline pp = config::point_pipeline(sweep, base, p);
    pp.name = pipeline_name(p.name);
    graphs.push_back(build_graph(pp));
    check_params(graphs.back());
  }
  // A copy done in an earlier form of the sweep stays in use by a point that alone has it now
  // (the sweep lost the other eval settings): computing it again in the point would be waste.
  const CopyDone done = [&](const std::string& stage, const std::string& fp) {
    const std::string m = marker_path(r.shared_root + "/" + copy_name(stage, fp), stage);
    std::error_code ec;
    if (!fs::is_regular_file(m, ec)) return false;
    try {
      const nlohmann::json j = read_json(m);
      return j.is_object() && j.value("fingerprint", "") == fp;
    } catch (const Error&) {
      return false;
    }
  };
  r.copies = shared_stages(graphs, done);
  const auto uses = shared_by_point(r.copies, graphs.size());
  std::set<std::string> names;
  for (const SharedStage& c : r.copies) {
    SweepRun run;
    run.name = copy_name(c.stage, c.fingerprint);
    // 64 bits of a 128-bit hash: two copies of one stage in a sweep agreeing on them is not
    // expected in practice, but two writers in one directory must never happen.
    if (!names.insert(run.name).second)
      throw Error(ExitCode::failed, "sweep " + sweep.name + ": two copies of stage '" + c.stage +
                                        "' have fingerprints starting with " + c.fingerprint.substr(0, 16) +
                                        "; they would share " + r.shared_root + "/" + run.name);
    run.dir = r.shared_root + "/" + run.name;
    run.linked = c.upstream;
    // The copy's run: the stage and what it depends on, declared as in its first point (every
    // point listed declares them alike: that is what the equal fingerprint says).
    config::Pipeline cp = config::point_pipeline(sweep, base, sweep.points[c.points.front()]);
    cp.name = sweep.name + "-shared-" + run.name;
    std::vector<config::StageDecl> keep;
    for (auto& d : cp.stages)
      if (d.name == c.stage || c.upstream.count(d.name)) keep.push_back(std::move(d));
    cp.stages = std::move(keep);
    run.graph = build_graph(cp);
    const Stage* own = run.graph.find(c.stage);
    if (!own || own->fingerprint != c.fingerprint)
      throw Error(ExitCode::failed, "sweep " + sweep.name + ": the shared copy of stage '" + c.stage +
                  "' built alone has another fingerprint than in its points (" + c.fingerprint + ")");
    r.shared.push_back(std::move(run));
  }
  for (size_t i = 0; i < graphs.size(); ++i) {
    SweepRun run;
    run.name = sweep.points[i].name;
    run.dir = r.root + "/" + run.name;
    run.graph = std::move(graphs[i]);
    run.linked = uses[i];
    r.points.push_back(std::move(run));
  }
  return r;
}

// A link of the run's that is not (or no longer) the one it should be is removed, so the run's
// stage never writes through it into a copy other runs read.
static void unlink_if_link(const std::string& link, const std::string& keep_target) {
  std::error_code ec;
  if (!fs::is_symlink(fs::symlink_status(link, ec))) return;
  if (!keep_target.empty() && fs::read_symlink(link, ec).string() == keep_target) return;
  fs::remove(link, ec);
  if (ec) throw IoError("cannot remove the stale link '" + link + "': " + ec.message());
}

// Links `link` to `target` (absolute) by a path relative to the link's folder, so the sweep
// folder can be moved as a whole.
static void symlink_if_absent(const std::string& target, const std::string& link) {
  const std::string rel = fs::path(target).lexically_relative(fs::path(link).parent_path()).string();
  unlink_if_link(link, rel);
  std::error_code ec;
  if (fs::symlink_status(link, ec).type() != fs::file_type::not_found) return;
  fs::create_directory_symlink(rel, link, ec);  // works for files too on POSIX
  if (ec) throw IoError("cannot link '" + link + "' to '" + rel + "': " + ec.message());
}

void link_run(const SweepRuns& r, const SweepRun& run) {
  create_dirs(state_dir(run.dir));
  // Stages the run computes itself: a link left by an earlier version of the sweep, when they
  // were shared, would make them overwrite the shared results.
  for (const auto& st : run.graph.stages) {
    if (run.linked.count(st.name)) continue;
    unlink_if_link(stage_dir(run.dir, st.name), "");
    unlink_if_link(marker_path(run.dir, st.name), "");
  }
  for (const auto& [stage, k] : run.linked) {
    const std::string copy = r.shared.at(k).dir;
    create_dirs(stage_dir(copy, stage));
    symlink_if_absent(stage_dir(copy, stage), stage_dir(run.dir, stage));
    symlink_if_absent(marker_path(copy, stage), marker_path(run.dir, stage));
  }
}

void link_point(const config::Sweep& sweep, const SweepRuns& r, size_t i) {
  link_run(r, r.points[i]);
  const nlohmann::json j = config::point_json(sweep, sweep.points[i]);
  const std::string path = r.points[i].dir + "/sweep.json";
  std::error_code ec;
  if (!fs::exists(path, ec) || read_json(path) != j) write_json_atomic(path, j);
}

// Whether run `from` has `stage` done as real files, not links, with fingerprint `fp`, and run
// `to` has not computed it: then it can move from `from` to `to`.
static bool movable(const std::string& from, const std::string& stage, const std::string& fp, const std::string& to) {
  const std::string from_marker = marker_path(from, stage), to_dir = stage_dir(to, stage);
  std::error_code ec;
  if (fs::exists(fs::symlink_status(marker_path(to, stage), ec)) ||
      !fs::is_regular_file(fs::symlink_status(from_marker, ec)) ||
      !fs::is_directory(fs::symlink_status(stage_dir(from, stage), ec)))
    return false;
  // Something started in the copy's directory: it is the copy's, not replaced.
  if (fs::exists(to_dir, ec) && !fs::is_empty(to_dir, ec)) return false;
  try {
    const nlohmann::json m = read_json(from_marker);
    return m.is_object() && m.value("fingerprint", "") == fp;
  } catch (const Error&) {
    return false;  // a damaged marker is as good as none: the copy computes the stage
  }
}

std::string done_elsewhere(const SweepRuns& r, size_t k) {
  const SharedStage& c = r.copies.at(k);
  const std::string to = r.shared.at(k).dir;
  // The earlier layout's single _shared run first: it is where every point used to read it.
  if (movable(r.shared_root, c.stage, c.fingerprint, to)) return r.shared_root;
  for (size_t p : c.points)
    if (movable(r.points.at(p).dir, c.stage, c.fingerprint, to)) return r.points[p].dir;
  return "";
}

void link_copy(const SweepRuns& r, size_t k, bool break_lock) {
  const SharedStage& c = r.copies.at(k);
  const SweepRun& run = r.shared.at(k);
  link_run(r, run);
  const std::string from = done_elsewhere(r, k);
  if (from.empty()) return;
  // Under `from`'s run lock, so nothing runs there meanwhile; checked again under it.
  RunLock lock(lock_path(from), break_lock);
  if (!movable(from, c.stage, c.fingerprint, run.dir)) return;
  std::error_code ec;
  fs::remove(stage_dir(run.dir, c.stage), ec);  // empty
  create_dirs(state_dir(run.dir));
  auto move = [](const std::string& a, const std::string& b) {
    std::error_code e;
    fs::rename(a, b, e);
    if (e) throw IoError("cannot move '" + a + "' to '" + b + "': " + e.message());
  };
  move(stage_dir(from, c.stage), stage_dir(run.dir, c.stage));
  const std::string from_tasks = tasks_dir(from, c.stage), to_tasks = tasks_dir(run.dir, c.stage);
  if (fs::is_directory(fs::symlink_status(from_tasks, ec)) && !fs::exists(to_tasks, ec)) move(from_tasks, to_tasks);
  move(marker_path(from, c.stage), marker_path(run.dir, c.stage));  // last: until then `from` has the stage whole
  log::info("sweep: moved the done stage {} of {} into the shared copy {}", c.stage, from, run.dir);
}

}  // namespace sg::graph
