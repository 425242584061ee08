#!/usr/bin/env bash
# `shadegan info` reports the memory this process may take, and a memory cgroup's limit lowers it
# below MemAvailable: a real cgroup (v2 where the memory controller can be delegated, else v1's
# memory hierarchy), as Slurm's ConstrainRAMSpace or a container sets one. core/memory_limit.h
# reads it; render and extract budgets (max_memory_gb) and the block cache are held to it.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
expect_exit 0 "$SHADEGAN" info
expect_out '^memory available +[0-9]+ MiB \((MemAvailable|the cgroup memory limit of .*)\)$'
expect_exit 0 "$SHADEGAN" info --json
/usr/bin/python3 -c 'import json,sys; j=json.loads(sys.stdin.read()); assert j["memory_available_mib"] > 0, j' <<<"$OUT" ||
  fail "info --json lacks a positive memory_available_mib: $OUT"

# A cgroup of our own with a 300 MiB limit, and `info` run inside it.
[ "$(id -u)" = 0 ] || fail "needs root to create a memory cgroup (the test suite runs as root)"
own=$(awk -F: '$1 == "0" {print $3}' /proc/self/cgroup)
v2_root=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
v1_root=$(awk '$9 == "cgroup" && $NF ~ /(^|,)memory(,|$)/ {print $5; exit}' /proc/self/mountinfo)
limit=$((300 << 20))
dir=""
if [ -n "$v2_root" ] && grep -qw memory "$v2_root/cgroup.controllers" 2>/dev/null; then
  dir="$v2_root/sg_info_memory_$$"
  mkdir "$dir" && echo "$limit" >"$dir/memory.max" || dir=""
fi
if [ -z "$dir" ] && [ -n "$v1_root" ]; then
  dir="$v1_root/sg_info_memory_$$"
  mkdir "$dir" && echo "$limit" >"$dir/memory.limit_in_bytes" || dir=""
fi
[ -n "$dir" ] || fail "cannot create a memory cgroup (cgroup v2 without the memory controller and no v1 memory hierarchy; own cgroup $own)"
trap 'rmdir "$dir" 2>/dev/null' EXIT
# The subshell moves itself in, then execs info: the limit is the child's, not this script's.
OUT=$(sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" info' sh "$dir" "$SHADEGAN" 2>&1) ||
  fail "shadegan info in the cgroup failed: $OUT"
line=$(grep '^memory available' <<<"$OUT")
[[ "$line" =~ ^memory\ available\ +([0-9]+)\ MiB\ \(the\ cgroup\ memory\ limit\ of\ (.*)\)$ ]] ||
  fail "inside a 300 MiB cgroup, info did not name the cgroup's limit: $line"
mib=${BASH_REMATCH[1]}
[ "$mib" -le 300 ] && [ "$mib" -gt 100 ] || fail "300 MiB limit, $mib MiB available (want 100..300: the limit less what info itself uses)"
[ "${BASH_REMATCH[2]}" = "$dir" ] || fail "the limit named ${BASH_REMATCH[2]}, not the cgroup $dir"
echo "info_memory_test: ok"
