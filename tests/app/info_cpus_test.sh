#!/usr/bin/env bash
# `shadegan info` says how many CPUs this process may use and how many threads a rank takes,
# from the affinity mask (taskset), not from the machine's core count; SLURM_CPUS_PER_TASK and
# OMP_NUM_THREADS lower the threads, never raise them. core/cpu_allocation.h decides.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
expect_exit 0 taskset -c 0 "$SHADEGAN" info
expect_out '^cpus allowed +1 \(affinity 0,'
expect_out '^threads per rank +1 '
if [ "$(nproc)" -ge 2 ]; then
  expect_exit 0 taskset -c 0,1 "$SHADEGAN" info
  expect_out '^cpus allowed +2 \(affinity 0-1,'
  expect_out '^threads per rank +2 '
  # An allocation of 1 CPU per task caps the rank, whatever the mask allows.
  SLURM_CPUS_PER_TASK=1 expect_exit 0 taskset -c 0,1 "$SHADEGAN" info
  expect_out '^threads per rank +1 .*SLURM_CPUS_PER_TASK=1'
  # Two ranks on one mask of 2 CPUs divide it (mpirun would bind each to a core: --bind-to none).
  expect_exit 0 taskset -c 0,1 mpirun -np 2 --bind-to none "$SHADEGAN" info
  expect_out '^threads per rank +1 .*2 ranks sharing'
fi
# OMP_NUM_THREADS larger than the mask does not add threads.
OMP_NUM_THREADS=64 expect_exit 0 taskset -c 0 "$SHADEGAN" info
expect_out '^threads per rank +1 '
# The JSON form carries the same numbers.
expect_exit 0 taskset -c 0 "$SHADEGAN" info --json
/usr/bin/python3 -c 'import json,sys; j=json.loads(sys.stdin.read()); assert j["cpus_allowed"]==1 and j["threads_per_rank"]==1, j' <<<"$OUT" ||
  fail "info --json lacks cpus_allowed 1 / threads_per_rank 1: $OUT"
echo "info_cpus_test: ok"
