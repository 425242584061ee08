// The memory a cgroup leaves, read from made-up cgroup trees, and this process's.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/memory_limit.h"
#include "scratch.h"

using sg::test::put_file;
namespace {
constexpr int64_t kMiB = int64_t{1} << 20;
}  // namespace

TEST_CASE("cgroup v2: the least memory.max - memory.current of the cgroup and its ancestors") {
  const std::string root = sg::test::scratch_dir("memory_v2");
  put_file(root + "/memory.max", "max\n");  // the root: no limit
  put_file(root + "/job/memory.max", std::to_string(8192 * kMiB) + "\n");
  put_file(root + "/job/memory.current", std::to_string(7000 * kMiB) + "\n");  // other steps use most of it
  put_file(root + "/job/step/memory.max", std::to_string(4096 * kMiB) + "\n");
  put_file(root + "/job/step/memory.current", std::to_string(1024 * kMiB) + "\n");
  put_file(root + "/other/memory.max", std::to_string(4096 * kMiB) + "\n");
  put_file(root + "/other/memory.current", std::to_string(5000 * kMiB) + "\n");  // over (reclaim lags)
  CHECK(sg::cgroup_v2_memory_left(root, "/job/step") == 1192 * kMiB);     // the job's, not the step's 3072
  CHECK(sg::cgroup_v2_memory_left(root, "/job/step/task") == 1192 * kMiB);  // no files of its own
  CHECK(sg::cgroup_v2_memory_left(root, "/other") == 0);
  CHECK(sg::cgroup_v2_memory_left(root, "/") == -1);
  CHECK(sg::cgroup_v2_memory_left(root, "/absent") == -1);
  put_file(root + "/bad/memory.max", "lots\n");
  CHECK(sg::cgroup_v2_memory_left(root, "/bad") == -1);  // not a number: no limit we can use
}

TEST_CASE("cgroup v1: limit_in_bytes - usage_in_bytes, the largest page-aligned value is no limit") {
  const std::string root = sg::test::scratch_dir("memory_v1");
  put_file(root + "/memory.limit_in_bytes", "9223372036854771712\n");
  put_file(root + "/memory.usage_in_bytes", std::to_string(3000 * kMiB) + "\n");
  put_file(root + "/slurm/uid_0/job_7/memory.limit_in_bytes", std::to_string(2048 * kMiB) + "\n");
  put_file(root + "/slurm/uid_0/job_7/memory.usage_in_bytes", std::to_string(48 * kMiB) + "\n");
  CHECK(sg::cgroup_v1_memory_left(root, "/slurm/uid_0/job_7") == 2000 * kMiB);
  CHECK(sg::cgroup_v1_memory_left(root, "/") == -1);
}

TEST_CASE("this process's available memory is at most MemAvailable and says what decided it") {
  double mem_available = -1;
  std::ifstream f("/proc/meminfo");
  for (std::string line; std::getline(f, line);) {
    std::istringstream in(line);
    std::string key;
    double kb = 0;
    if (in >> key >> kb && key == "MemAvailable:") mem_available = kb * 1024;
  }
  REQUIRE(mem_available > 0);
  const sg::MemoryAvailable m = sg::available_memory();
  CHECK(m.bytes > 0);
  // MemAvailable moves between the two reads: a few MiB either way.
  CHECK(m.bytes <= mem_available + 64 * kMiB);
  CHECK((m.source == "MemAvailable" || m.source.find("the cgroup memory limit of ") == 0));
}
