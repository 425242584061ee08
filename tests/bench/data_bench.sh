#!/bin/bash
# Sharding and loader benchmark (not part of the test suite). Usage:
#   tests/bench/data_bench.sh [build-dir]      (default: build)
# Generates 2,000 procedural 256 px JPEGs, then prints, measured in this one run:
#   - pure decode rate (read + libjpeg-turbo decode through decode_image, the sharder's own
#     function and flags: TJFLAG_ACCURATEDCT, fancy upsampling; one process)
#   - sharding rate on 1 and 2 MPI ranks (decode + store into HDF5), as ratios of the decode rate,
#     each launched as the local executor launches a shard stage (src/exec/local_executor.cpp):
#     1 rank without mpirun (MPI's singleton init; mpirun -np 1 would bind the rank and its writer
#     threads to one core, leaving the other idle), 2 ranks with a plain mpirun -np 2
#     at the default (pixels uncompressed) and, for comparison, at deflate level 1 (the default
#     until issue 23)
#   - CPU per image of decoding and of sharding (all ranks and threads): what the ratios come
#     to when the run has the cores to itself
#   - where one rank's CPU goes, per image (data_bench profile, on 500 of the JPEGs): storing a
#     shard the v1 way (chunks through the page cache, read back to hash) and the v2 way
#   - loader batches/s (batch 32 at 64 px) against decoding the JPEGs at every step
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
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
"$B" gen "$WORK/jpg" 2000 256
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
# Each prints "img/s CPU-ms-per-image"; $(...) so that a failing run stops the script.
out=$("$B" decode "$WORK/jpg"); read -r decode decode_cpu <<<"$out"
out=$("$B" shard "$WORK/jpg" "$WORK/s1" 256); read -r one one_cpu <<<"$out"
out=$(mpirun -np 2 "$B" shard "$WORK/jpg" "$WORK/s2" 256); read -r two two_cpu <<<"$out"
out=$("$B" shard "$WORK/jpg" "$WORK/z1" 256 1); read -r one_z _ <<<"$out"
out=$(mpirun -np 2 "$B" shard "$WORK/jpg" "$WORK/z2" 256 1); read -r two_z _ <<<"$out"
zsize=$(du -sm "$WORK/z1" | cut -f1); rm -rf "$WORK/z1" "$WORK/z2"
cmp -s "$WORK/s1/manifest.json" "$WORK/s2/manifest.json" || \
  python3 -c "import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); assert a['content_hash']==b['content_hash']" "$WORK/s1/manifest.json" "$WORK/s2/manifest.json"
read -r loader decoding < <("$B" loader "$WORK/jpg" "$WORK/s1" 32 64 400)
size=$(du -sm "$WORK/s1" | cut -f1); jsize=$(du -sm "$WORK/jpg" | cut -f1)
awk -v d="$decode" -v o="$one" -v t="$two" -v oz="$one_z" -v tz="$two_z" -v l="$loader" -v x="$decoding" \
    -v s="$size" -v z="$zsize" -v j="$jsize" -v dc="$decode_cpu" -v oc="$one_cpu" -v tc="$two_cpu" 'BEGIN {
  printf "pure JPEG decode (1 process)      %8.1f img/s\n", d
  printf "shard, 1 rank                     %8.1f img/s   = %.2f x decode rate (target >= 0.8)\n", o, o / d
  printf "shard, 2 ranks                    %8.1f img/s   = %.2f x decode rate (target >= 1.6), %.2f x 1 rank\n", t, t / d, t / o
  # Rates depend on the CPU the run got; CPU per image does not. On two otherwise idle cores
  # 2 ranks reach 1.6x decode only if sharding costs at most 2/1.6 = 1.25x decode CPU.
  printf "CPU per image: decode %.3f ms, shard 1 rank %.3f ms (%.2f x), 2 ranks %.3f ms (%.2f x; <= 1.25 for 1.6x on 2 idle cores)\n", dc, oc, oc / dc, tc, tc / dc
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
