// Which points share which stage: grouped by each stage's fingerprint, which covers the stage's
// inputs, so a stage is shared only by points that share everything it reads.
#include "graph/shared_stages.h"

#include <doctest/doctest.h>

#include "test_kinds.h"

using namespace sg::graph;

namespace {

// One graph per point, as a sweep's grid would make them (the last key fastest).
std::vector<JobGraph> grid(const std::vector<std::string>& train_labels, const std::vector<int>& eval_sizes) {
  std::vector<JobGraph> out;
  for (const auto& t : train_labels)
    for (int e : eval_sizes)
      out.push_back(sg_test::graph_of(sg_test::kDataTrainValidate, {"train.label=" + t, "validate.size=" + std::to_string(e)}));
  return out;
}

using Points = std::vector<size_t>;

}  // namespace

TEST_CASE("2 seeds x 3 eval settings: the data once for all six, one training per seed for three points, no eval") {
  const auto graphs = grid({"seed-0", "seed-1"}, {1, 2, 3});
  const auto copies = shared_stages(graphs);
  REQUIRE(copies.size() == 3);
  CHECK(copies[0].stage == "data");
  CHECK(copies[0].points == Points{0, 1, 2, 3, 4, 5});
  CHECK(copies[0].upstream.empty());
  CHECK(copies[1].stage == "train");
  CHECK(copies[1].points == Points{0, 1, 2});
  CHECK(copies[1].fingerprint == graphs[0].find("train")->fingerprint);
  CHECK(copies[1].upstream == std::map<std::string, size_t>{{"data", 0}});
  CHECK(copies[2].stage == "train");
  CHECK(copies[2].points == Points{3, 4, 5});
  CHECK(copies[2].fingerprint == graphs[3].find("train")->fingerprint);
  CHECK(copies[1].fingerprint != copies[2].fingerprint);

  const auto by_point = shared_by_point(copies, graphs.size());
  CHECK(by_point[1] == std::map<std::string, size_t>{{"data", 0}, {"train", 1}});
  CHECK(by_point[4] == std::map<std::string, size_t>{{"data", 0}, {"train", 2}});
}

TEST_CASE("equal parameters on different inputs are not shared: the eval of two seeds' trainings") {
  // Points 0 and 1 evaluate alike (size 1) but read different trainings.
  const auto graphs = grid({"seed-0", "seed-1"}, {1});
  const auto copies = shared_stages(graphs);
  REQUIRE(copies.size() == 1);
  CHECK(copies[0].stage == "data");
  CHECK(graphs[0].find("validate")->params == graphs[1].find("validate")->params);
}

TEST_CASE("copies reach through every stage above: a shared stage two levels down lists both") {
  // Only the eval varies: data and train are shared by all, eval by the two points of size 2.
  const auto graphs = grid({"seed-0"}, {1, 2, 2});
  const auto copies = shared_stages(graphs);
  REQUIRE(copies.size() == 3);
  CHECK(copies[2].stage == "validate");
  CHECK(copies[2].points == Points{1, 2});
  CHECK(copies[2].upstream == std::map<std::string, size_t>{{"data", 0}, {"train", 1}});
}

TEST_CASE("a stage of one point alone is a copy when its copy is done and what it reads is shared") {
  const auto graphs = grid({"seed-0", "seed-1"}, {1});
  const std::string train0 = graphs[0].find("train")->fingerprint;
  const auto copies = shared_stages(graphs, [&](const std::string& stage, const std::string& fp) {
    return stage == "train" && fp == train0;
  });
  REQUIRE(copies.size() == 2);
  CHECK(copies[1].stage == "train");
  CHECK(copies[1].points == Points{0});
  CHECK(copies[1].upstream == std::map<std::string, size_t>{{"data", 0}});
  // Its input not a copy (points that differ from the first stage on): not kept.
  std::vector<JobGraph> apart;
  for (const char* l : {"a", "b"}) apart.push_back(sg_test::graph_of(sg_test::kDataTrainValidate, {std::string("data.label=") + l}));
  CHECK(shared_stages(apart, [](const std::string& stage, const std::string&) { return stage == "train"; }).empty());
}

TEST_CASE("one point, or points that differ from the first stage on, share nothing") {
  CHECK(shared_stages(grid({"seed-0"}, {1})).empty());
  std::vector<JobGraph> graphs;
  for (const char* l : {"a", "b"}) graphs.push_back(sg_test::graph_of(sg_test::kDataTrainValidate, {std::string("data.label=") + l}));
  CHECK(shared_stages(graphs).empty());
}
