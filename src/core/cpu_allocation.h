#pragma once
// How many CPUs this process may use, and so how many threads each rank starts. Never the
// machine's core count: on a 128-core node an 8-CPU Slurm job must not start 128 threads, and
// `taskset -c 0` means one. The decision is a pure function of what was read (CpuLimits), so it
// is tested with made-up limits; read_cpu_limits() gathers them for this process.
#include <string>

namespace sg {

struct CpuLimits {
  int affinity = 0;             // CPUs in the affinity mask (sched_getaffinity); 0: unknown
  double cgroup_quota = 0;      // CPUs' worth of time the cgroup grants (quota / period); 0: no quota
  int slurm_cpus_per_task = 0;  // SLURM_CPUS_PER_TASK; 0: not set
  int omp_num_threads = 0;      // OMP_NUM_THREADS; 0: not set
};

// The CPUs the process may run on: the affinity mask's size, lowered to the cgroup quota
// (rounded up: 1.5 CPUs of time keep 2 threads busy part of the time), at least 1. Without
// either (unknown affinity, no quota) it is 1: a guess of more could oversubscribe a node.
int cpus_allowed(const CpuLimits& limits);

struct ThreadChoice {
  int threads = 1;
  std::string reason;  // what decided it, for the log: "2 CPUs allowed (affinity) / 2 ranks sharing them"
};

// Threads for one rank. `requested` > 0 is an explicit choice (a stage's `threads`) and wins.
// Otherwise the allowed CPUs are divided among the ranks that share them (`ranks_sharing`:
// ranks of this host with the same affinity mask; ranks bound to their own CPUs share with
// none), then capped by SLURM_CPUS_PER_TASK (the rank's share of the allocation, which Slurm
// without task/affinity does not enforce) and by OMP_NUM_THREADS when set.
ThreadChoice threads_per_rank(const CpuLimits& limits, int requested, int ranks_sharing);

// The CPU quota of a cgroup v2 hierarchy mounted at `root` for the cgroup `path` ("/a/b" from
// /proc/self/cgroup's "0::/a/b"): the smallest cpu.max among the cgroup and its ancestors, in
// CPUs; 0 when none sets one ("max") or the files are absent.
double cgroup_v2_quota(const std::string& root, const std::string& path);
// The same for a cgroup v1 cpu controller mounted at `root`: cpu.cfs_quota_us / cpu.cfs_period_us
// (-1: no quota).
double cgroup_v1_quota(const std::string& root, const std::string& path);

// A count from the environment: a positive integer, else 0 (unset, empty or not a count).
int env_count(const char* value);

// This process's limits: sched_getaffinity, the cgroup quota (v2, else v1, found through
// /proc/self/cgroup and /proc/self/mountinfo) and the two environment variables.
CpuLimits read_cpu_limits();

// OpenBLAS keeps a thread pool of its own, sized at load time from the affinity mask alone
// (not the cgroup quota, not SLURM_CPUS_PER_TASK, not the ranks sharing the CPUs), and
// at::set_num_threads does not reach it. This sizes it to `threads` when the BLAS mapped at run
// time is OpenBLAS (Debian's alternatives choose it); false when it is another BLAS. Also makes
// results independent of the mask: a GEMM split over another number of threads rounds differently.
bool set_openblas_threads(int threads);

// The affinity mask as a CPU list ("0-3,8"), so ranks can tell whether they share CPUs.
std::string affinity_list();

}  // namespace sg
