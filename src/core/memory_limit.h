#pragma once
// How much memory this process may still take: the kernel's MemAvailable, lowered to what its
// cgroups leave. A Slurm job with --mem (ConstrainRAMSpace) or a container runs in a cgroup whose
// limit is far below the node's free memory; budgets sized from MemAvailable alone passed there
// and the job was OOM-killed mid-render instead of refusing the setting up front.
#include <cstdint>
#include <string>

namespace sg {

// Bytes a cgroup v2 hierarchy mounted at `root` leaves the cgroup `path`: the smallest
// memory.max − memory.current among it and its ancestors; -1 when none sets a limit ("max") or
// the files are absent (the memory controller not enabled there).
int64_t cgroup_v2_memory_left(const std::string& root, const std::string& path);
// The same for a cgroup v1 memory controller: memory.limit_in_bytes − memory.usage_in_bytes
// (a limit of 2^62 or more is v1's "none").
int64_t cgroup_v1_memory_left(const std::string& root, const std::string& path);

struct MemoryAvailable {
  double bytes = 0;
  std::string source;  // what decided it: "MemAvailable", or "the cgroup memory limit of <dir>"
};

// For this process: min(MemAvailable, every cgroup's memory left). When /proc/meminfo cannot be
// read and no cgroup limits, bytes is +infinity ("unknown": the caller's own cap decides).
MemoryAvailable available_memory();

}  // namespace sg
