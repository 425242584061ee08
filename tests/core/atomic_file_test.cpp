#include "core/atomic_file.h"

#include <doctest/doctest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "core/orphan_temps.h"
#include "core/subprocess.h"
#include "test_worker.h"

namespace fs = std::filesystem;

static std::string scratch(const std::string& name) {
  const char* base = std::getenv("SG_TEST_TMP");
  fs::path dir = fs::path(base ? base : "/tmp") / ("core_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

TEST_CASE("write_file_atomic replaces content and leaves no temporary file") {
  const std::string dir = scratch("atomic");
  const std::string path = dir + "/sub/a.json";
  sg::write_file_atomic(path, "first");
  CHECK(sg::read_file(path) == "first");
  const auto ino_before = fs::status(path).permissions();
  sg::write_file_atomic(path, "second, longer content");
  CHECK(sg::read_file(path) == "second, longer content");
  CHECK(fs::status(path).permissions() == ino_before);
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir + "/sub")) {
    (void)e;
    ++entries;
  }
  CHECK(entries == 1);
  fs::remove_all(dir);
}

TEST_CASE("write_file_atomic names the path when the directory is not writable") {
  if (::geteuid() == 0) {
    // root ignores permission bits; use a path under a regular file instead.
    const std::string dir = scratch("atomic_err");
    sg::write_file_atomic(dir + "/file", "x");
    CHECK_THROWS_WITH_AS(sg::write_file_atomic(dir + "/file/inner", "y"),
                         doctest::Contains((dir + "/file").c_str()), sg::IoError);
    fs::remove_all(dir);
  } else {
    CHECK_THROWS_AS(sg::write_file_atomic("/proc/shadegan-test/x", "y"), sg::IoError);
  }
}

TEST_CASE("read_file of a missing file is an IoError naming it") {
  CHECK_THROWS_WITH_AS(sg::read_file("/nonexistent/shadegan/file.txt"),
                       doctest::Contains("/nonexistent/shadegan/file.txt"), sg::IoError);
}

TEST_CASE("commit_file renames a finished temporary into place") {
  const std::string dir = scratch("commit");
  const std::string target = dir + "/data.bin";
  const std::string tmp = sg::temp_path_for(target);
  CHECK(tmp.find(dir) == 0);
  sg::write_file_atomic(tmp, "payload");
  sg::commit_file(tmp, target);
  CHECK(sg::read_file(target) == "payload");
  CHECK_FALSE(fs::exists(tmp));
  fs::remove_all(dir);
}

// --- A crash in the middle of a write, for real: a process of this binary (the worker below)
// writes through the fault point (SG_FAULT_KILL_AFTER_BYTES) and dies by SIGKILL part-way.

namespace {
int atomic_crash_worker() {
  const char* path = std::getenv("SG_CRASH_PATH");
  if (!path) return 2;
  sg::write_file_atomic(path, std::string(1 << 20, 'n'));  // 1 MiB: the fault point kills inside
  return 0;                                                 // reached only if it did not
}
const sg::test::Worker atomic_crash_registered("atomic_crash", atomic_crash_worker);
}  // namespace

TEST_CASE("a kill -9 in the middle of write_file_atomic leaves the old file whole, and its temporary is collected") {
  const std::string dir = scratch("crash");
  const std::string path = dir + "/state.json";
  sg::write_file_atomic(path, "old");
  sg::ProcessSpec spec;
  spec.argv = {fs::read_symlink("/proc/self/exe").string()};
  spec.env = {{"SG_TEST_WORKER", "atomic_crash"}, {"SG_CRASH_PATH", path}, {"SG_FAULT_KILL_AFTER_BYTES", "300000"}};
  const int pid = sg::spawn(spec);
  const sg::ProcessExit e = sg::wait_pid(pid);
  CHECK(e.signal == SIGKILL);
  CHECK(sg::read_file(path) == "old");  // the previous version, whole
  const std::string tmp = dir + "/.state.json.tmp-" + std::to_string(pid);
  REQUIRE(fs::exists(tmp));
  CHECK(fs::file_size(tmp) == 300000);  // killed mid-write, exactly at the fault point
  const auto removed = sg::collect_orphan_temps(dir);
  REQUIRE(removed.size() == 1);
  CHECK(removed[0] == tmp);
  CHECK(!fs::exists(tmp));
  CHECK(sg::read_file(path) == "old");
  fs::remove_all(dir);
}

TEST_CASE("collect_orphan_temps keeps the temporaries of live processes and names that are not ours") {
  const std::string dir = scratch("orphans");
  const std::string mine = dir + "/.a.json.tmp-" + std::to_string(::getpid());
  const std::string parent = dir + "/.b.json.tmp-" + std::to_string(::getppid());
  const std::string aside = dir + "/ckpt/.tmp-old-step-0000004";
  const std::string plain = dir + "/notes.tmp-12";
  for (const auto& f : {mine, parent, plain}) sg::write_file_atomic(f, "x");
  fs::create_directories(aside);
  CHECK(sg::collect_orphan_temps(dir).empty());
  for (const auto& f : {mine, parent, aside, plain}) CHECK(fs::exists(f));
  CHECK(sg::temp_owner_pid(".shard-00001.h5.tmp-4242") == 4242);
  CHECK(sg::temp_owner_pid(".tmp-step-0000300-4242") == 4242);
  CHECK(sg::temp_owner_pid(".tmp-old-step-0000300") == -1);
  CHECK(sg::temp_owner_pid("shard-00001.h5") == -1);
  CHECK(sg::temp_owner_pid(".x.tmp-") == -1);
  fs::remove_all(dir);
}

// --- A full disk, for real: a 64 KiB tmpfs (needs root: fails, never skips, without it).
TEST_CASE("write_file_atomic on a full file system: IoError naming the file and ENOSPC, old file whole, no temporary") {
  const std::string dir = scratch("enospc");
  REQUIRE_MESSAGE(::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=64k") == 0,
                  "cannot mount a tmpfs at " << dir << " (this test needs root)");
  const std::string path = dir + "/meta.json";
  sg::write_file_atomic(path, "old");
  CHECK_THROWS_WITH_AS(sg::write_file_atomic(path, std::string(1 << 20, 'x')),
                       doctest::Contains("meta.json': No space left on device"), sg::IoError);
  CHECK(sg::read_file(path) == "old");
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    (void)e;
    ++entries;
  }
  CHECK(entries == 1);  // the temporary went with the failure
  ::umount2(dir.c_str(), MNT_DETACH);
  fs::remove_all(dir);
}
