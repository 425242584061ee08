#!/bin/bash
# Our training iteration against the REFERENCE's, side by side (issue 23; not part of the suite).
#   tests/bench/reference_bench.sh <reference checkout> [build-dir] [rounds] [threads]
# <reference checkout>: XingangPan/ShadeGAN at 154e897 (tests/fixtures/gen/README.md shows how to
# git-archive it from a mirror); run with Debian's /usr/bin/python3 (torch 1.13). Identical work:
# CelebA_ShadeGAN_view at step 0, 32 px, batch 4, batch_split 1, 12+12 samples, full width, depth
# loss, one process, the same number of threads (taskset to the first <threads> CPUs; default all).
# The two alternate, <rounds> times (default 2), so that both see the same machine; every round
# prints both and their ratio, then the medians. Load average is printed: compare only on an idle
# machine and the same BLAS.
set -euo pipefail
REF=$(cd "$1" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${2:-$SRC/build}" && pwd)
ROUNDS=${3:-2}
T=${4:-$(nproc)}
CPUS="0-$((T - 1))"
ninja -C "$BUILD" bench_train >/dev/null
echo "machine: $(nproc) CPUs, threads $T (CPUs $CPUS), load average $(cut -d' ' -f1-3 /proc/loadavg)"
ours_all=() ref_all=()
for r in $(seq "$ROUNDS"); do
  # One rank without mpirun (MPI's singleton init): unbound, so mpi::rank_threads takes the CPUs
  # taskset leaves it.
  line=$(SG_BENCH_CASE=celeba-32px-b4 taskset -c "$CPUS" "$BUILD/tests/bench/bench_train" | grep '^RESULT')
  ours=$(grep -Eo 'sec_per_iter=[0-9.]+' <<<"$line" | cut -d= -f2)
  ours_cpu=$(grep -Eo 'cpu_s_per_iter=[0-9.]+' <<<"$line" | cut -d= -f2)
  threads=$(grep -Eo 'threads=[0-9]+' <<<"$line" | cut -d= -f2)
  [ "$threads" = "$T" ] || { echo "ours ran $threads threads, not $T" >&2; exit 1; }
  read -r ref ref_cpu < <(taskset -c "$CPUS" /usr/bin/python3 "$SRC/tests/bench/reference_train_bench.py" \
    "$REF" --iters 2 --threads "$T" 2>/dev/null | tail -1)
  awk -v r="$r" -v o="$ours" -v oc="$ours_cpu" -v f="$ref" -v fc="$ref_cpu" 'BEGIN {
    printf "round %d: ours %.2f s/iter (CPU %.2f s), reference %.2f s/iter (CPU %.2f s): %.2f x the reference images/s\n", r, o, oc, f, fc, f / o }'
  ours_all+=("$ours") ref_all+=("$ref")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
mo=$(median "${ours_all[@]}") mr=$(median "${ref_all[@]}")
awk -v o="$mo" -v f="$mr" 'BEGIN { printf "median: ours %.2f s/iter, reference %.2f s/iter: %.2f x the reference images/s (target >= 1.3)\n", o, f, f / o }'
echo "machine: load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
