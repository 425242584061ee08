#include "graph/run_status.h"

#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "core/atomic_file.h"

#include "core/json_file.h"
#include "core/subprocess.h"
#include "graph/snapshot.h"
#include "test_kinds.h"

using namespace sg::graph;

TEST_CASE("status tells done, stale, failed, running and not started apart") {
  const std::string dir = sg::test::scratch_dir("graph_status");
  // a -> b -> c, d alone; run a and d, fail b.
  const auto g = sg_test::graph_of(sg_test::kChain);
  write_snapshot(dir, g);
  sg_test::run_here(dir, "a");
  sg_test::run_here(dir, "d");
  write_failure(dir, "b", 3, "exit code 3");
  auto st = run_status(g, dir);
  REQUIRE(st.size() == 4);
  CHECK(st[0].state == StageState::done);
  CHECK(st[1].state == StageState::failed);
  CHECK(st[1].failure->at("exit_code") == 3);
  CHECK(st[2].state == StageState::not_started);
  CHECK(st[2].reasons == std::vector<std::string>{"waits for b"});
  CHECK(st[3].state == StageState::done);

  // d's parameters changed since it ran: stale, with the reason.
  const auto g2 = sg_test::graph_of(sg_test::kChain, {"d.size=9"});
  st = run_status(g2, dir);
  CHECK(st[3].state == StageState::stale);
  CHECK(st[3].reasons == std::vector<std::string>{"parameter size changed from 4 to 9"});

  // A live stage-exec named by b's running file: running. Once it is gone: no longer running.
  sg::ProcessSpec spec;
  spec.argv = {"sh", "-c", "sleep 30; exit 0", "stage-exec"};  // not exec'd away: sh stays
  const int pid = sg::spawn(spec);
  for (int i = 0; i < 400 && sg::read_file("/proc/" + std::to_string(pid) + "/cmdline").find("stage-exec") ==
                                 std::string::npos;
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // until the child has exec'd
  sg::write_json_atomic(running_path(dir, "b"), {{"pid", pid}, {"host", this_host()}, {"started", "now"}});
  st = run_status(g, dir);
  CHECK(st[1].state == StageState::running);
  REQUIRE(st[1].running);
  CHECK(st[1].running->at("pid") == pid);
  const auto j = status_to_json(st);
  CHECK(j[1]["state"] == "running");
  CHECK(j[0]["state"] == "done");
  CHECK(j[0]["fingerprint"] == g.stages[0].fingerprint);
  sg::signal_group(pid, SIGKILL);
  sg::wait_pid(pid);
  st = run_status(g, dir);
  CHECK(st[1].state == StageState::failed);  // the failure file is still the latest word
  CHECK(state_name(StageState::not_started) == std::string("not started"));
}
