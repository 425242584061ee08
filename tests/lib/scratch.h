#pragma once
// A test case's scratch folder and files: under $SG_TEST_TMP (ctest gives each test binary its
// own) or /tmp, emptied first so that a failed run's leftovers change nothing.
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/atomic_file.h"

namespace sg::test {

inline std::string scratch_dir(const std::string& name) {
  const char* t = std::getenv("SG_TEST_TMP");
  const std::string d = std::string(t ? t : "/tmp") + "/" + name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// Writes `text` to `path`, creating its folders (a made-up /sys/fs/cgroup tree, say).
inline void put_file(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  sg::write_file_atomic(path, text);
}

}  // namespace sg::test
