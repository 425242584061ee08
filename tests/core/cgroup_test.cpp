// Finding this process's cgroup directories from made-up /proc/self/cgroup and mountinfo texts.
#include <doctest/doctest.h>

#include <string>

#include "core/cgroup.h"

namespace {
// As on a Debian 12 VM with the v1 controllers mounted one per hierarchy beside a v2 one.
const char* kHybridCgroup =
    "4:memory:/process_api/4ad06e\n"
    "1:cpu:/\n"
    "2:cpuacct:/\n"
    "0::/\n";
const char* kHybridMounts =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
}  // namespace

TEST_CASE("cgroup v1 and v2 hierarchies holding a controller, with this process's cgroup in each") {
  const auto mem = sg::cgroup_dirs(kHybridCgroup, kHybridMounts, "memory");
  REQUIRE(mem.size() == 2);
  CHECK(mem[0].root == "/sys/fs/cgroup/memory");
  CHECK(mem[0].path == "/process_api/4ad06e");
  CHECK_FALSE(mem[0].v2);
  CHECK(mem[1].root == "/sys/fs/cgroup/unified");
  CHECK(mem[1].path == "/");
  CHECK(mem[1].v2);
  const auto cpu = sg::cgroup_dirs(kHybridCgroup, kHybridMounts, "cpu");
  REQUIRE(cpu.size() == 2);
  CHECK(cpu[0].root == "/sys/fs/cgroup/cpu");
  CHECK(cpu[0].path == "/");
  // cpuacct is another controller, not a prefix match of cpu
  CHECK(sg::cgroup_dirs(kHybridCgroup, kHybridMounts, "pids").size() == 1);  // v2 only
}

TEST_CASE("a Slurm job step under cgroup v2 in a container: paths relative to the mount's root") {
  const std::string cgroup = "0::/system.slice/slurmstepd.scope/job_42/step_0/user/task_0\n";
  // The container's cgroup namespace mounts its own cgroup ("/system.slice/slurmstepd.scope") as root.
  const std::string mounts =
      "29 22 0:26 /system.slice/slurmstepd.scope /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
  const auto d = sg::cgroup_dirs(cgroup, mounts, "memory");
  REQUIRE(d.size() == 1);
  CHECK(d[0].root == "/sys/fs/cgroup");
  CHECK(d[0].path == "/job_42/step_0/user/task_0");
  CHECK(d[0].v2);
  CHECK(sg::cgroup_dirs("", mounts, "memory").empty());  // no /proc/self/cgroup: nothing known
}

TEST_CASE("a cgroup path and its ancestors, deepest first") {
  CHECK(sg::self_and_ancestors("/a/b") == std::vector<std::string>{"/a/b", "/a", ""});
  CHECK(sg::self_and_ancestors("/a/b/") == std::vector<std::string>{"/a/b", "/a", ""});
  CHECK(sg::self_and_ancestors("/") == std::vector<std::string>{""});
}
