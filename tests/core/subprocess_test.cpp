#include "core/subprocess.h"

#include <doctest/doctest.h>
#include <signal.h>

#include <fstream>
#include <sstream>

static std::string tmpdir() {
  const char* t = std::getenv("SG_TEST_TMP");
  return t ? t : "/tmp";
}

TEST_CASE("run_process reports exit codes, signals, env, cwd and output") {
  sg::ProcessSpec ok;
  ok.argv = {"sh", "-c", "exit 7"};
  CHECK(sg::run_process(ok).code == 7);

  sg::ProcessSpec killed;
  killed.argv = {"sh", "-c", "kill -TERM $$"};
  const auto e = sg::run_process(killed);
  CHECK(e.signal == SIGTERM);
  CHECK(e.code == 128 + SIGTERM);

  sg::ProcessSpec env;
  const std::string log = tmpdir() + "/core_subprocess.log";
  std::remove(log.c_str());
  env.argv = {"sh", "-c", "echo \"$SG_X\"; pwd"};
  env.env = {{"SG_X", "hello"}};
  env.cwd = "/";
  env.output_path = log;
  CHECK(sg::run_process(env).code == 0);
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  CHECK(ss.str() == "hello\n/\n");

  sg::ProcessSpec missing;
  missing.argv = {"/nonexistent/program"};
  CHECK(sg::run_process(missing).code == 127);
}
