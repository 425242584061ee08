#include "core/run_lock.h"

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"

static std::string lock_path(const char* name) {
  const char* t = std::getenv("SG_TEST_TMP");
  const std::string dir = std::string(t ? t : "/tmp") + "/core_lock_" + name + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  return dir + "/run.lock";
}

TEST_CASE("a second holder is refused while the first lives and released locks are reusable") {
  const std::string path = lock_path("busy");
  {
    sg::RunLock first(path);
    CHECK(first.took_over_from().empty());
    // flock is per open file description, so a child process is a real second holder.
    const pid_t pid = ::fork();
    if (pid == 0) {
      try {
        sg::RunLock second(path);
        ::_exit(0);
      } catch (const sg::BusyError& e) {
        ::_exit(std::string(e.what()).find("pid ") != std::string::npos ? 3 : 4);
      }
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK(WEXITSTATUS(status) == 3);
  }
  sg::RunLock again(path);
  CHECK(again.took_over_from().empty());  // released cleanly: nothing to take over
}

TEST_CASE("a lock left by a dead process is taken over") {
  const std::string path = lock_path("stale");
  const pid_t pid = ::fork();
  if (pid == 0) {
    new sg::RunLock(path);  // never released: the process dies holding it
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  sg::RunLock taken(path);
  CHECK(taken.took_over_from().find("pid " + std::to_string(pid)) == 0);
}
