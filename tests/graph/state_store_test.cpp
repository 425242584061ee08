#include "graph/state_store.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "core/hash.h"
#include "test_kinds.h"

using namespace sg::graph;

TEST_CASE("outputs are listed recursively with sizes and hashes, without temporary files") {
  const std::string dir = sg::test::scratch_dir("graph_state_outputs");
  std::filesystem::create_directories(dir + "/ckpt/step-1");
  std::ofstream(dir + "/b.txt") << "bb";
  std::ofstream(dir + "/ckpt/step-1/g.pt") << "12345";
  std::ofstream(dir + "/.b.txt.tmp-123") << "half-written";
  const auto outs = list_outputs(dir);
  REQUIRE(outs.size() == 2);
  CHECK(outs[0].path == "b.txt");
  CHECK(outs[0].size == 2);
  CHECK(outs[0].hash == sg::hash_bytes("bb"));
  CHECK(outs[1].path == "ckpt/step-1/g.pt");
  CHECK(outs[1].size == 5);
  const std::string d1 = outputs_digest(outs);
  std::ofstream(dir + "/b.txt") << "bc";
  CHECK(outputs_digest(list_outputs(dir)) != d1);
  CHECK(list_outputs(dir + "/absent").empty());
}

TEST_CASE("markers round-trip through JSON, a damaged one is a FormatError naming it") {
  const std::string dir = sg::test::scratch_dir("graph_state_marker");
  Marker m;
  m.stage = "train";
  m.kind = "train";
  m.kind_version = 2;
  m.fingerprint = "ab";
  m.params = {{"steps", 5}};
  m.inputs["shard"] = {"cd", "ef"};
  m.outputs = {{"LATEST", 4, "00"}};
  m.outputs_digest = outputs_digest(m.outputs);
  m.started = "s";
  m.ended = "e";
  m.duration_s = 1.5;
  m.host = "h";
  m.pid = 7;
  m.ranks = 2;
  m.job_id = "123";
  CHECK_FALSE(read_marker(dir, "train"));
  write_marker(dir, m);
  const auto back = read_marker(dir, "train");
  REQUIRE(back);
  CHECK(marker_to_json(*back) == marker_to_json(m));
  std::ofstream(marker_path(dir, "train")) << R"({"stage": "train"})";
  CHECK_THROWS_WITH_AS(read_marker(dir, "train"), doctest::Contains("train.json' is not a stage marker"),
                       sg::FormatError);
}

TEST_CASE("a failure records the end of the last attempt's log") {
  const std::string dir = sg::test::scratch_dir("graph_state_failure");
  std::filesystem::create_directories(dir + "/logs");
  {
    std::ofstream log(stage_log_path(dir, "s"));
    log << log_attempt_header("s", "t1") << "\nold attempt\n" << log_attempt_header("s", "t2") << "\n";
    for (int i = 0; i < 20; ++i) log << "line " << i << "\n";
  }
  write_failure(dir, "s", 2, "exit code 2");
  const auto f = read_failure(dir, "s");
  REQUIRE(f);
  CHECK(f->at("exit_code") == 2);
  CHECK(f->at("message") == "exit code 2");
  const auto tail = f->at("log_tail").get<std::vector<std::string>>();
  REQUIRE(tail.size() == 15);
  CHECK(tail.front() == "line 5");
  CHECK(tail.back() == "line 19");
  CHECK_FALSE(read_failure(dir, "other"));
}
