#include "core/cpu_allocation.h"

#include <dlfcn.h>
#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <vector>

#include "core/cgroup.h"
#include "core/error.h"

namespace sg {

namespace {

// The affinity mask as a sorted list of CPU numbers: the one sched_getaffinity call. Masks of
// machines with more CPUs than a cpu_set_t holds need a bigger set (EINVAL until it fits).
std::vector<int> affinity_cpus() {
  for (int n = CPU_SETSIZE; n <= (1 << 16); n *= 2) {
    cpu_set_t* set = CPU_ALLOC(n);
    if (!set) throw IoError("sched_getaffinity: cannot allocate a set of " + std::to_string(n) + " CPUs");
    const size_t bytes = CPU_ALLOC_SIZE(n);
    CPU_ZERO_S(bytes, set);
    if (sched_getaffinity(0, bytes, set) == 0) {
      std::vector<int> cpus;
      for (int c = 0; c < n; ++c)
        if (CPU_ISSET_S(c, bytes, set)) cpus.push_back(c);
      CPU_FREE(set);
      return cpus;
    }
    const int err = errno;
    CPU_FREE(set);
    if (err != EINVAL) throw IoError(std::string("sched_getaffinity: ") + std::strerror(err));
  }
  throw IoError("sched_getaffinity: the affinity mask is larger than 65536 CPUs");
}

// The smallest positive quota among the levels (0 when none has one).
double min_quota(double a, double b) {
  if (a <= 0) return b;
  if (b <= 0) return a;
  return std::min(a, b);
}

}  // namespace

int cpus_allowed(const CpuLimits& l) {
  int cpus = l.affinity > 0 ? l.affinity : 0;
  if (l.cgroup_quota > 0) {
    const int quota = std::max(1, static_cast<int>(std::ceil(l.cgroup_quota - 1e-9)));
    cpus = cpus > 0 ? std::min(cpus, quota) : quota;
  }
  return std::max(1, cpus);
}

ThreadChoice threads_per_rank(const CpuLimits& l, int requested, int ranks_sharing) {
  if (requested > 0) return {requested, "threads = " + std::to_string(requested) + " asked for"};
  const int allowed = cpus_allowed(l);
  const int sharing = std::max(1, ranks_sharing);
  const bool by_quota = l.cgroup_quota > 0 && (l.affinity <= 0 || allowed < l.affinity);
  ThreadChoice c;
  c.threads = std::max(1, allowed / sharing);
  c.reason = std::to_string(allowed) + " CPUs allowed (" + (by_quota ? "cgroup quota" : l.affinity > 0 ? "affinity" : "nothing known") +
             ")";
  if (sharing > 1) c.reason += " / " + std::to_string(sharing) + " ranks sharing them";
  if (l.slurm_cpus_per_task > 0 && l.slurm_cpus_per_task < c.threads) {
    c.threads = l.slurm_cpus_per_task;
    c.reason += ", SLURM_CPUS_PER_TASK=" + std::to_string(l.slurm_cpus_per_task);
  }
  if (l.omp_num_threads > 0 && l.omp_num_threads < c.threads) {
    c.threads = l.omp_num_threads;
    c.reason += ", OMP_NUM_THREADS=" + std::to_string(l.omp_num_threads);
  }
  return c;
}

double cgroup_v2_quota(const std::string& root, const std::string& path) {
  double q = 0;
  for (const auto& level : self_and_ancestors(path)) {
    std::istringstream in(read_small_file(root + level + "/cpu.max"));
    std::string quota;
    double period = 0;
    if (!(in >> quota >> period) || quota == "max" || period <= 0) continue;
    char* end = nullptr;
    const double us = std::strtod(quota.c_str(), &end);
    if (end == quota.c_str() || *end || us <= 0) continue;
    q = min_quota(q, us / period);
  }
  return q;
}

double cgroup_v1_quota(const std::string& root, const std::string& path) {
  double q = 0;
  for (const auto& level : self_and_ancestors(path)) {
    std::istringstream qin(read_small_file(root + level + "/cpu.cfs_quota_us"));
    std::istringstream pin(read_small_file(root + level + "/cpu.cfs_period_us"));
    double us = 0, period = 0;
    if (!(qin >> us) || !(pin >> period) || us <= 0 || period <= 0) continue;
    q = min_quota(q, us / period);
  }
  return q;
}

int env_count(const char* value) {
  if (!value || !*value) return 0;
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(value, &end, 10);
  if (errno || *end || v <= 0 || v > 1 << 20) return 0;
  return static_cast<int>(v);
}

CpuLimits read_cpu_limits() {
  CpuLimits l;
  l.affinity = static_cast<int>(affinity_cpus().size());
  for (const CgroupDir& d : own_cgroup_dirs("cpu"))
    l.cgroup_quota = min_quota(l.cgroup_quota, d.v2 ? cgroup_v2_quota(d.root, d.path) : cgroup_v1_quota(d.root, d.path));
  l.slurm_cpus_per_task = env_count(std::getenv("SLURM_CPUS_PER_TASK"));
  l.omp_num_threads = env_count(std::getenv("OMP_NUM_THREADS"));
  return l;
}

bool set_openblas_threads(int threads) {
  // Looked up, not linked: LibTorch reaches BLAS through Debian's libblas.so.3 alternative.
  using SetThreads = void (*)(int);
  auto set = reinterpret_cast<SetThreads>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (!set) return false;
  set(std::max(1, threads));
  return true;
}

std::string affinity_list() {
  const std::vector<int> cpus = affinity_cpus();
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    out += (out.empty() ? "" : ",") + std::to_string(cpus[i]);
    if (j > i) out += "-" + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace sg
