// Threads per rank from what the process may use, with made-up limits; cgroup quotas read from
// made-up cgroup trees.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/cpu_allocation.h"
#include "scratch.h"

using sg::CpuLimits;

using sg::test::put_file;

TEST_CASE("the allowed CPUs are the affinity mask lowered to the cgroup quota, never more") {
  CHECK(sg::cpus_allowed({1, 0, 0, 0}) == 1);         // taskset -c 0 on any machine
  CHECK(sg::cpus_allowed({128, 8, 0, 0}) == 8);       // an 8-CPU quota on a 128-core node
  CHECK(sg::cpus_allowed({128, 1.5, 0, 0}) == 2);     // a fractional quota rounds up
  CHECK(sg::cpus_allowed({4, 16, 0, 0}) == 4);        // a quota above the mask does not add CPUs
  CHECK(sg::cpus_allowed({0, 0, 0, 0}) == 1);         // nothing known: one, not a guess
  CHECK(sg::cpus_allowed({0, 3, 0, 0}) == 3);
  CHECK(sg::cpus_allowed({0, 0.2, 0, 0}) == 1);
}

TEST_CASE("threads per rank: allowed CPUs shared among ranks, capped by Slurm and OpenMP settings") {
  // taskset -c 0: one thread, however many cores the machine has.
  CHECK(sg::threads_per_rank({1, 0, 0, 0}, 0, 1).threads == 1);
  CHECK(sg::threads_per_rank({1, 0, 0, 0}, 0, 2).threads == 1);
  // Two unbound ranks on a 128-CPU mask divide it; bound ranks (sharing with none) keep theirs.
  CHECK(sg::threads_per_rank({128, 0, 0, 0}, 0, 2).threads == 64);
  CHECK(sg::threads_per_rank({8, 0, 0, 0}, 0, 1).threads == 8);
  // An 8-CPU job on a 128-core node without task/affinity: SLURM_CPUS_PER_TASK caps each rank.
  const auto slurm = sg::threads_per_rank({128, 0, 8, 0}, 0, 1);
  CHECK(slurm.threads == 8);
  CHECK(slurm.reason.find("SLURM_CPUS_PER_TASK=8") != std::string::npos);
  // The cgroup quota is shared like the mask.
  const auto quota = sg::threads_per_rank({128, 8, 0, 0}, 0, 2);
  CHECK(quota.threads == 4);
  CHECK(quota.reason.find("cgroup quota") != std::string::npos);
  CHECK(quota.reason.find("2 ranks sharing") != std::string::npos);
  // OMP_NUM_THREADS lowers, never raises past the allocation.
  CHECK(sg::threads_per_rank({16, 0, 0, 2}, 0, 1).threads == 2);
  CHECK(sg::threads_per_rank({4, 0, 0, 64}, 0, 1).threads == 4);
  CHECK(sg::threads_per_rank({16, 0, 8, 4}, 0, 1).threads == 4);
  // An explicit `threads` wins.
  CHECK(sg::threads_per_rank({1, 0, 0, 0}, 3, 2).threads == 3);
}

TEST_CASE("environment counts: positive integers only") {
  CHECK(sg::env_count(nullptr) == 0);
  CHECK(sg::env_count("") == 0);
  CHECK(sg::env_count("8") == 8);
  CHECK(sg::env_count("0") == 0);
  CHECK(sg::env_count("-2") == 0);
  CHECK(sg::env_count("4,2") == 0);  // OpenMP's nested list: not one count
  CHECK(sg::env_count("abc") == 0);
}

TEST_CASE("cgroup v2: the smallest cpu.max of the cgroup and its ancestors") {
  const std::string root = sg::test::scratch_dir("cgroup_v2");
  put_file(root + "/cpu.max", "max 100000\n");
  put_file(root + "/job/cpu.max", "400000 100000\n");
  put_file(root + "/job/step/cpu.max", "max 100000\n");
  put_file(root + "/job/step/task/cpu.max", "150000 100000\n");
  CHECK(sg::cgroup_v2_quota(root, "/job/step") == doctest::Approx(4.0));
  CHECK(sg::cgroup_v2_quota(root, "/job/step/task") == doctest::Approx(1.5));
  CHECK(sg::cgroup_v2_quota(root, "/") == 0);
  CHECK(sg::cgroup_v2_quota(root, "/absent") == 0);
}

TEST_CASE("cgroup v1: cfs quota over period, -1 is no quota") {
  const std::string root = sg::test::scratch_dir("cgroup_v1");
  put_file(root + "/cpu.cfs_quota_us", "-1\n");
  put_file(root + "/cpu.cfs_period_us", "100000\n");
  put_file(root + "/slurm/cpu.cfs_quota_us", "200000\n");
  put_file(root + "/slurm/cpu.cfs_period_us", "100000\n");
  CHECK(sg::cgroup_v1_quota(root, "/slurm") == doctest::Approx(2.0));
  CHECK(sg::cgroup_v1_quota(root, "/") == 0);
}

TEST_CASE("this process's limits are read and name at least one CPU") {
  const CpuLimits l = sg::read_cpu_limits();
  CHECK(l.affinity >= 1);
  CHECK(sg::cpus_allowed(l) >= 1);
  CHECK(!sg::affinity_list().empty());
}
