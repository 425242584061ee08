#include "mpi/rounds.h"

#include <doctest/doctest.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "core/atomic_file.h"
#include "core/subprocess.h"
#include "mpi/mpi.h"
#include "test_worker.h"

namespace fs = std::filesystem;

// The rounds on 2 ranks, in a worker started under mpirun (SG_ROUNDS_CASE picks the case; the
// worker writes what it saw to SG_ROUNDS_DIR/rank<r>.txt and the test case reads it).
namespace {

void record(const std::string& dir, const std::string& text) {
  sg::write_file_atomic(dir + "/rank" + std::to_string(sg::mpi::rank()) + ".txt", text);
}

// A file appears: the ranks' only way to see each other's progress besides the votes.
bool wait_for(const std::string& path, int seconds) {
  for (int i = 0; i < seconds * 100; ++i) {
    if (fs::exists(path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

int rounds_worker() {
  sg::mpi::init();
  const std::string dir = std::getenv("SG_ROUNDS_DIR");
  const std::string which = std::getenv("SG_ROUNDS_CASE");
  const int rank = sg::mpi::rank();
  std::vector<int64_t> done;
  bool stopped = false;
  if (which == "stop") {
    // Rank 1 wants a stop once it has done 3 items.
    stopped = sg::mpi::for_each_round(
        40, [&] { return rank == 1 && done.size() == 3; }, [&](int64_t i) { done.push_back(i); });
  } else if (which == "ahead") {
    // Rank 1's item of round 1 (item 3) waits until rank 0 has done its item of round 2 (item
    // 4): rank 0 must be able to start a round before rank 1 has finished the one before.
    stopped = sg::mpi::for_each_round(
        8, [] { return false; },
        [&](int64_t i) {
          if (i == 3 && !wait_for(dir + "/item4", 30)) throw std::runtime_error("rank 0 never got to item 4");
          if (i == 4) sg::write_file_atomic(dir + "/item4", "");
          done.push_back(i);
        });
  } else if (which == "cast") {
    // The last rank casts a vote and makes no MPI call until every other rank has counted it: a
    // vote must reach the others when it is cast, not at the caster's next MPI call (a shard
    // later).
    const int last = sg::mpi::size() - 1;
    if (rank == last) {
      sg::mpi::PendingVote v = sg::mpi::PendingVote::start(true);
      for (int r = 0; r < last; ++r)
        if (!wait_for(dir + "/counted" + std::to_string(r), 30))
          throw std::runtime_error("rank " + std::to_string(r) + " never counted the last rank's vote");
      stopped = v.wait();
    } else {
      stopped = sg::mpi::PendingVote::start(false).wait();
      sg::write_file_atomic(dir + "/counted" + std::to_string(rank), "");
    }
  } else {
    return 2;
  }
  std::string text = stopped ? "stopped" : "done";
  for (int64_t i : done) text += " " + std::to_string(i);
  record(dir, text);
  return 0;
}
const sg::test::Worker rounds_registered("rounds", rounds_worker);

// Runs the worker's case on `ranks` ranks (more than the cores: --oversubscribe); returns each
// rank's record.
std::vector<std::string> run_on(const std::string& which, int ranks) {
  const std::string base = std::getenv("SG_TEST_TMP") ? std::getenv("SG_TEST_TMP") : "/tmp";
  const std::string dir = base + "/rounds_test_" + which + "_" + std::to_string(::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  sg::ProcessSpec spec;
  spec.argv = {"mpirun", "--oversubscribe", "-np", std::to_string(ranks), "--bind-to", "none",
               fs::read_symlink("/proc/self/exe").string()};
  spec.env = {{"SG_TEST_WORKER", "rounds"}, {"SG_ROUNDS_CASE", which}, {"SG_ROUNDS_DIR", dir},
              {"OMPI_ALLOW_RUN_AS_ROOT", "1"}, {"OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"}};
  spec.output_path = dir + "/mpirun.log";
  const sg::ProcessExit exit = sg::run_process(spec);
  REQUIRE_MESSAGE(exit.code == 0, sg::read_file(spec.output_path));
  std::vector<std::string> out;
  for (int r = 0; r < ranks; ++r) out.push_back(sg::read_file(dir + "/rank" + std::to_string(r) + ".txt"));
  fs::remove_all(dir);
  return out;
}

}  // namespace

TEST_CASE("rounds: a stop wanted on one rank ends it at once and the other after one more item, both told") {
  const auto r = run_on("stop", 2);
  // Rank 1 did rounds 0-2 and voted to stop at the start of round 3; rank 0 learnt it when it
  // counted that vote, at the start of round 4, so it did round 3's item too.
  CHECK(r[1] == "stopped 1 3 5");
  CHECK(r[0] == "stopped 0 2 4 6");
}

TEST_CASE("rounds: a rank can start a round before the other has finished the one before") {
  // Counting every vote at once held the ranks in lockstep: this case then could not finish.
  const auto r = run_on("ahead", 2);
  CHECK(r[0] == "done 0 2 4 6");
  CHECK(r[1] == "done 1 3 5 7");
}

TEST_CASE("rounds: a vote is on its way once cast, 2 to 4 ranks count it while the caster makes no MPI call") {
  // Before, Open MPI sent it only when the caster next called MPI (its next round's start),
  // so a rank that got ahead waited for the other's next round: lockstep again.
  for (int ranks : {2, 3, 4}) {
    CAPTURE(ranks);
    for (const std::string& r : run_on("cast", ranks)) CHECK(r == "stopped");
  }
}

TEST_CASE("rounds: on one rank every item is done in order, and a stop ends them before the next") {
  sg::mpi::init();
  REQUIRE(sg::mpi::size() == 1);
  std::vector<int64_t> done;
  CHECK_FALSE(sg::mpi::for_each_round(5, [] { return false; }, [&](int64_t i) { done.push_back(i); }));
  CHECK(done == std::vector<int64_t>{0, 1, 2, 3, 4});
  done.clear();
  CHECK(sg::mpi::for_each_round(5, [&] { return done.size() == 2; }, [&](int64_t i) { done.push_back(i); }));
  CHECK(done == std::vector<int64_t>{0, 1});
}
