#pragma once
// Where this process's cgroups are, for the limits a batch job runs under (Slurm's
// ConstrainCores/ConstrainRAMSpace, a container's): the CPU quota (core/cpu_allocation.h) and the
// memory limit (core/memory_limit.h) are read from these directories. Pure functions of the
// texts of /proc/self/cgroup and /proc/self/mountinfo, so they are tested with made-up ones.
#include <string>
#include <vector>

namespace sg {

// One hierarchy holding a controller: its mount point (`root`), this process's cgroup in it
// relative to the mount (`path`, "/job/step"; a container sees its own cgroup as "/"), and
// whether it is the unified (v2) hierarchy.
struct CgroupDir {
  std::string root, path;
  bool v2 = false;
};

// The hierarchies holding `controller` ("cpu", "memory") for the process whose
// /proc/self/cgroup and /proc/self/mountinfo read as given: the v1 hierarchy that lists it, and
// the v2 one (whose files say whether the controller is enabled there).
std::vector<CgroupDir> cgroup_dirs(const std::string& proc_cgroup, const std::string& mountinfo,
                                   const std::string& controller);
// The same for this process.
std::vector<CgroupDir> own_cgroup_dirs(const std::string& controller);

// `path` and each ancestor up to the hierarchy's root, deepest first ("/a/b" -> "/a/b", "/a", "").
// A limit set on any of them applies.
std::vector<std::string> self_and_ancestors(std::string path);

// A small file's text ("" when it cannot be read: a missing file is no limit).
std::string read_small_file(const std::string& path);

}  // namespace sg
