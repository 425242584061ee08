// A sweep's runs on disk: one run directory per shared copy, _shared/<stage>-<fingerprint>,
// holding the stage and links to the copies it reads; points link the stages they share.
#include "graph/sweep_runs.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "core/json_file.h"
#include "graph/planner.h"
#include "graph/snapshot.h"
#include "test_kinds.h"

using namespace sg::graph;
namespace fs = std::filesystem;

namespace {

// A sweep over train.label x validate.size in a fresh folder (keys sorted: the label varies
// slowest, so points 0-2 train on the first label).
sg::config::Sweep write_sweep(const std::string& dir, const std::string& labels, const std::string& sizes) {
  sg_test::register_test_kinds();
  std::ofstream(dir + "/base.toml") << sg_test::kDataTrainValidate;
  std::ofstream(dir + "/s.sweep.toml") << "[sweep]\nname = \"sw\"\npipeline = \"base.toml\"\ngather = false\n[grid]\n"
                                       << "\"train.label\" = [" << labels << "]\n\"validate.size\" = [" << sizes << "]\n";
  return sg::config::load_sweep(dir + "/s.sweep.toml");
}

std::vector<std::string> to_run(const SweepRun& run) {
  const Plan p = plan(run.graph, run.dir);
  std::vector<std::string> out;
  for (size_t i = 0; i < run.graph.stages.size(); ++i)
    if (p.stages[i].run) out.push_back(run.graph.stages[i].name);
  return out;
}

// What the sweep command does locally, with the graph library only: copies first, then points.
void run_sweep(const sg::config::Sweep& s, const SweepRuns& r) {
  for (size_t k = 0; k < r.shared.size(); ++k) {
    link_copy(r, k);
    write_snapshot(r.shared[k].dir, r.shared[k].graph);
    for (const auto& st : to_run(r.shared[k])) sg_test::run_here(r.shared[k].dir, st);
  }
  for (size_t i = 0; i < r.points.size(); ++i) {
    link_point(s, r, i);
    write_snapshot(r.points[i].dir, r.points[i].graph);
    for (const auto& st : to_run(r.points[i])) sg_test::run_here(r.points[i].dir, st);
  }
}

using Names = std::vector<std::string>;

}  // namespace

TEST_CASE("2 labels x 3 sizes: copies of data and of each training under _shared, named by stage and fingerprint") {
  const std::string dir = sg::test::scratch_dir("sweep_runs_layout");
  const auto s = write_sweep(dir, "\"a\", \"b\"", "1, 2, 3");
  const SweepRuns r = plan_sweep(s, dir + "/runs");
  REQUIRE(r.points.size() == 6);
  REQUIRE(r.shared.size() == 3);
  CHECK(r.shared_root == dir + "/runs/sw/_shared");
  const std::string train_a = r.points[0].graph.find("train")->fingerprint;
  CHECK(r.shared[1].name == "train-" + train_a.substr(0, 16));
  CHECK(r.shared[1].dir == r.shared_root + "/" + r.shared[1].name);
  CHECK(r.shared[0].name.rfind("data-", 0) == 0);
  // A copy's run holds its stage and what that reads, which it links from the copies above.
  CHECK(r.shared[1].graph.names() == Names{"data", "train"});
  CHECK(r.shared[1].linked == std::map<std::string, size_t>{{"data", 0}});
  CHECK(r.shared[0].graph.names() == Names{"data"});
  CHECK(r.points[2].linked == std::map<std::string, size_t>{{"data", 0}, {"train", 1}});
  CHECK(r.points[3].linked == std::map<std::string, size_t>{{"data", 0}, {"train", 2}});

  sg_test::run_counts().clear();
  run_sweep(s, r);
  CHECK(sg_test::run_counts()["data"] == 1);
  CHECK(sg_test::run_counts()["train"] == 2);
  CHECK(sg_test::run_counts()["validate"] == 6);
  // Relative links, so the sweep folder can move.
  CHECK(fs::read_symlink(r.points[4].dir + "/train").string() == "../_shared/" + r.shared[2].name + "/train");
  CHECK(fs::read_symlink(r.points[4].dir + "/state/train.json").string() ==
        "../../_shared/" + r.shared[2].name + "/state/train.json");
  CHECK(fs::read_symlink(r.shared[2].dir + "/data").string() == "../" + r.shared[0].name + "/data");
  // Each validate read its own label's training.
  for (size_t i = 0; i < 6; ++i) {
    std::ifstream in(r.points[i].dir + "/train/out.txt");
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    CHECK(text.find(i < 3 ? "\"a\"" : "\"b\"") != std::string::npos);
  }
  // Again: nothing to do anywhere, and the links are left as they are.
  for (const auto& run : r.shared) CHECK(to_run(run).empty());
  for (size_t i = 0; i < r.points.size(); ++i) {
    link_point(s, r, i);
    CHECK(to_run(r.points[i]).empty());
  }
}

TEST_CASE("growing a sweep recomputes nothing: a point's own training moves into the copy once another point agrees on it") {
  const std::string dir = sg::test::scratch_dir("sweep_runs_grow");
  sg_test::run_counts().clear();
  const auto s1 = write_sweep(dir, "\"a\", \"b\"", "1");
  const SweepRuns r1 = plan_sweep(s1, dir + "/runs");
  REQUIRE(r1.shared.size() == 1);  // data; each training is one point's
  run_sweep(s1, r1);
  CHECK(sg_test::run_counts()["train"] == 2);
  CHECK_FALSE(fs::is_symlink(fs::symlink_status(r1.points[0].dir + "/train")));

  sg_test::run_counts().clear();
  const auto s2 = write_sweep(dir, "\"a\", \"b\"", "1, 2");
  const SweepRuns r2 = plan_sweep(s2, dir + "/runs");
  REQUIRE(r2.shared.size() == 3);
  CHECK(r2.points[0].dir == r1.points[0].dir);
  CHECK(done_elsewhere(r2, 1) == r1.points[0].dir);  // what the dry run reports
  CHECK(done_elsewhere(r2, 0).empty());               // data: in its copy already
  run_sweep(s2, r2);
  CHECK(sg_test::run_counts()["train"] == 0);
  CHECK(sg_test::run_counts()["validate"] == 2);  // the two new points
  CHECK(fs::read_symlink(r2.points[0].dir + "/train").string() == "../_shared/" + r2.shared[1].name + "/train");
  CHECK(fs::exists(r2.shared[1].dir + "/train/out.txt"));

  sg_test::run_counts().clear();
  const auto s3 = write_sweep(dir, "\"a\", \"b\"", "1, 2, 3");
  run_sweep(s3, plan_sweep(s3, dir + "/runs"));
  CHECK(sg_test::run_counts()["train"] == 0);
  CHECK(sg_test::run_counts()["validate"] == 2);
}

TEST_CASE("shrinking a sweep recomputes nothing: a point alone with a done copy keeps linking it") {
  const std::string dir = sg::test::scratch_dir("sweep_runs_shrink");
  const auto s2 = write_sweep(dir, "\"a\", \"b\"", "1, 2");
  const SweepRuns r2 = plan_sweep(s2, dir + "/runs");
  run_sweep(s2, r2);
  const auto s1 = write_sweep(dir, "\"a\", \"b\"", "1");
  const SweepRuns r1 = plan_sweep(s1, dir + "/runs");
  REQUIRE(r1.shared.size() == 3);
  CHECK(r1.copies[1].points == std::vector<size_t>{0});
  CHECK(r1.shared[1].dir == r2.shared[1].dir);
  sg_test::run_counts().clear();
  run_sweep(s1, r1);
  CHECK(sg_test::run_counts()["train"] == 0);
  CHECK(sg_test::run_counts()["validate"] == 0);
  CHECK(fs::is_symlink(fs::symlink_status(r1.points[0].dir + "/train")));

  // A copy whose marker is gone is not kept for one point: the point computes the stage in a
  // directory of its own, never through its old link into the copy.
  fs::remove(r2.shared[1].dir + "/state/train.json");
  const SweepRuns r1b = plan_sweep(s1, dir + "/runs");
  REQUIRE(r1b.shared.size() == 2);  // data, and b's training
  sg_test::run_counts().clear();
  run_sweep(s1, r1b);
  CHECK(sg_test::run_counts()["train"] == 1);
  CHECK_FALSE(fs::is_symlink(fs::symlink_status(r1b.points[0].dir + "/train")));
  CHECK_FALSE(fs::is_symlink(fs::symlink_status(r1b.points[0].dir + "/state/train.json")));
  CHECK_FALSE(fs::exists(r2.shared[1].dir + "/state/train.json"));  // nothing wrote into the copy
}

TEST_CASE("a sweep laid out before copies had fingerprints: the done stage in _shared moves into its copy") {
  const std::string dir = sg::test::scratch_dir("sweep_runs_legacy");
  const auto s = write_sweep(dir, "\"a\"", "1, 2");
  const SweepRuns r = plan_sweep(s, dir + "/runs");
  REQUIRE(r.shared.size() == 2);  // data and train, shared by both points
  // The earlier layout: _shared was one run of the stages every point shared.
  JobGraph old = r.shared[1].graph;
  write_snapshot(r.shared_root, old);
  sg_test::run_here(r.shared_root, "data");
  sg_test::run_here(r.shared_root, "train");
  sg_test::run_counts().clear();
  CHECK(done_elsewhere(r, 0) == r.shared_root);
  run_sweep(s, r);
  CHECK(sg_test::run_counts()["data"] == 0);
  CHECK(sg_test::run_counts()["train"] == 0);
  CHECK(sg_test::run_counts()["validate"] == 2);
  CHECK(fs::exists(r.shared[1].dir + "/train/out.txt"));
  CHECK_FALSE(fs::exists(r.shared_root + "/train"));
}
