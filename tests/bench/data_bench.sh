#!/bin/bash
# Sharding and loader benchmark (not part of the test suite). Usage:
#   tests/bench/data_bench.sh [build-dir] [images] [rounds]   (defaults: build 2000 3)
# Generates `images` procedural 256 px JPEGs, then prints, measured in this one run:
#   - pure decode rate (read + libjpeg-turbo decode through decode_image, the sharder's own
#     function and flags: TJFLAG_ACCURATEDCT, fancy upsampling; one process)
#   - the same decode split between 2 MPI ranks (launched as below, nothing but decoding): what two
#     processes get from this machine at once, the ceiling of sharding on 2 ranks. On a machine
#     whose two CPUs are a core's two hyperthreads, or a virtual machine's vCPUs on a busy host,
#     it is well under 2x, and the 2-rank target (1.6x) is then out of reach of any sharder.
#   - sharding rate on 1 and 2 MPI ranks (decode + store into HDF5), as ratios of the decode rate,
#     each launched as the local executor launches a shard stage (src/exec/local_executor.cpp):
#     1 rank without mpirun (MPI's singleton init; mpirun -np 1 would bind the rank and its writer
#     threads to one core, leaving the other idle), 2 ranks with mpirun --bind-to none -np 2
#     (unbound, each rank's writer threads may run on either core)
#     at the default (pixels uncompressed) and, for comparison, at deflate level 1 (the default
#     until issue 23)
#   - CPU per image of decoding and of sharding (all ranks and threads): what the ratios come
#     to when the run has the cores to itself
#   The decode and the two sharding runs are repeated `rounds` times, interleaved, and each ratio
#   is the median of its rounds (each round's own decode is its denominator): on this 2-vCPU
#   virtual machine the same decode ran 0.30 to 0.45 ms per image from one minute to the next, in
#   phases of about a second, so one run of each could put a phase between numerator and
#   denominator. Every round's ratios are printed too.
#   - where one rank's CPU goes, per image (data_bench profile, on 500 of the JPEGs): storing a
#     shard the v1 way (chunks through the page cache, read back to hash) and the v2 way
#   - loader batches/s (batch 32 at 64 px) against decoding the JPEGs at every step
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
IMAGES=${2:-2000}
ROUNDS=${3:-3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
WORK=$(mktemp -d /tmp/data_bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
c++ -O2 -std=c++17 -DFMT_SHARED -I"$SRC/src" -isystem /usr/include/hdf5/openmpi \
  -isystem /usr/lib/x86_64-linux-gnu/openmpi/include "$SRC/tests/bench/data_bench.cpp" \
  "$BUILD/src/libsg_data.a" "$BUILD/src/libsg_config.a" "$BUILD/src/libsg_mpi.a" "$BUILD/src/libsg_core.a" \
  -L/usr/lib/x86_64-linux-gnu/hdf5/openmpi -lhdf5 -lmpi_cxx -lmpi -lturbojpeg -lpng16 -lfmt -ltomlplusplus \
  -lxxhash -lpthread -o "$WORK/bench"
B="$WORK/bench"
mkdir "$WORK/jpg"
"$B" gen "$WORK/jpg" "$IMAGES" 256
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
# Each prints "img/s CPU-ms-per-image"; $(...) so that a failing run stops the script.
rounds=""
for r in $(seq "$ROUNDS"); do
  rm -rf "$WORK/s1" "$WORK/s2"
  out=$("$B" decode "$WORK/jpg"); read -r decode decode_cpu <<<"$out"
  out=$(mpirun --bind-to none -np 2 "$B" decode "$WORK/jpg" mpi); read -r par par_cpu <<<"$out"
  out=$("$B" shard "$WORK/jpg" "$WORK/s1" 256); read -r one one_cpu <<<"$out"
  out=$(mpirun --bind-to none -np 2 "$B" shard "$WORK/jpg" "$WORK/s2" 256); read -r two two_cpu <<<"$out"
  rounds+="$decode $decode_cpu $one $one_cpu $two $two_cpu $par $par_cpu"$'\n'
done
# Per round: its decode, and its sharding rates and CPU as ratios of it; then the medians.
read -r decode decode_cpu one one_cpu two two_cpu r1 r2 c1 c2 rp cp r2p < <(printf '%s' "$rounds" | awk '
  function median(a, n,   i, j, t) {
    for (i = 2; i <= n; ++i) for (j = i; j > 1 && a[j - 1] > a[j]; --j) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { ++n; d[n] = $1; dc[n] = $2; o[n] = $3; oc[n] = $4; t[n] = $5; tc[n] = $6
    r1[n] = $3 / $1; r2[n] = $5 / $1; c1[n] = $4 / $2; c2[n] = $6 / $2
    rp[n] = $7 / $1; cp[n] = $8 / $2; r2p[n] = $5 / $7
    printf "round %d: decode %.1f img/s %.3f ms; 2 decodes in parallel %.2f x (CPU %.2f x); shard 1 rank %.2f x (CPU %.2f x), 2 ranks %.2f x (CPU %.2f x; %.2f of the parallel decodes)\n", \
      n, $1, $2, rp[n], cp[n], r1[n], c1[n], r2[n], c2[n], r2p[n] > "/dev/stderr" }
  END { print median(d, n), median(dc, n), median(o, n), median(oc, n), median(t, n), median(tc, n), \
    median(r1, n), median(r2, n), median(c1, n), median(c2, n), median(rp, n), median(cp, n), median(r2p, n) }')
out=$("$B" shard "$WORK/jpg" "$WORK/z1" 256 1); read -r one_z _ <<<"$out"
out=$(mpirun --bind-to none -np 2 "$B" shard "$WORK/jpg" "$WORK/z2" 256 1); read -r two_z _ <<<"$out"
zsize=$(du -sm "$WORK/z1" | cut -f1); rm -rf "$WORK/z1" "$WORK/z2"
cmp -s "$WORK/s1/manifest.json" "$WORK/s2/manifest.json" || \
  python3 -c "import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); assert a['content_hash']==b['content_hash']" "$WORK/s1/manifest.json" "$WORK/s2/manifest.json"
read -r loader decoding < <("$B" loader "$WORK/jpg" "$WORK/s1" 32 64 400)
size=$(du -sm "$WORK/s1" | cut -f1); jsize=$(du -sm "$WORK/jpg" | cut -f1)
awk -v d="$decode" -v o="$one" -v t="$two" -v oz="$one_z" -v tz="$two_z" -v l="$loader" -v x="$decoding" \
    -v s="$size" -v z="$zsize" -v j="$jsize" -v dc="$decode_cpu" -v oc="$one_cpu" -v tc="$two_cpu" \
    -v r1="$r1" -v r2="$r2" -v c1="$c1" -v c2="$c2" -v rp="$rp" -v cp="$cp" -v r2p="$r2p" \
    -v n="$IMAGES" -v R="$ROUNDS" 'BEGIN {
  printf "%d images; medians of %d interleaved rounds\n", n, R
  printf "pure JPEG decode (1 process)      %8.1f img/s\n", d
  printf "pure decode, 2 ranks in parallel            = %.2f x decode rate (CPU %.2f x): the machine'"'"'s ceiling for 2 ranks\n", rp, cp
  printf "shard, 1 rank                     %8.1f img/s   = %.2f x decode rate (target >= 0.8)\n", o, r1
  printf "shard, 2 ranks                    %8.1f img/s   = %.2f x decode rate (target >= 1.6), %.2f x 1 rank, %.2f x the parallel decodes\n", t, r2, t / o, r2p
  # Rates depend on the CPU the run got; CPU per image does not. On two otherwise idle cores
  # 2 ranks reach 1.6x decode only if sharding costs at most 2/1.6 = 1.25x decode CPU.
  printf "CPU per image: decode %.3f ms, shard 1 rank %.3f ms (%.2f x), 2 ranks %.3f ms (%.2f x; <= 1.25 for 1.6x on 2 idle cores)\n", dc, oc, c1, tc, c2
  printf "shards %d MB for %d MB of JPEGs (pixels uncompressed, the default)\n", s, j
  printf "shard --deflate 1, 1 rank         %8.1f img/s   = %.2f x decode rate\n", oz, oz / d
  printf "shard --deflate 1, 2 ranks        %8.1f img/s   = %.2f x decode rate\n", tz, tz / d
  printf "shards %d MB at deflate level 1\n", z
  printf "loader, batch 32 at 64 px         %8.1f batches/s\n", l
  printf "decode 32 JPEGs every step        %8.1f batches/s\n", x
  printf "loader / decode-every-step        %8.1f x (target >= 10)\n", l / x
}'
echo "where one rank's CPU goes, per image:"
"$B" profile "$WORK/jpg" 256 "$WORK/profile.h5"
echo "machine: load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
