#include "core/atomic_file.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "core/error.h"

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
