#!/usr/bin/env bash
# Sharding onto a file system that refuses O_DIRECT (a ramfs here; tmpfs on older kernels and
# some network file systems too) goes through the page cache instead (core/region_writer.h) and
# writes the same bytes: every shard and the manifest's content hash equal those written with
# direct I/O to this test's own folder.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
PY=/usr/bin/python3
[ "$(id -u)" = 0 ] || fail "needs root to mount a ramfs (the test suite runs as root)"
mkdir ram
mount -t ramfs ramfs ram || fail "cannot mount a ramfs at $WORK/ram"
trap 'umount "$WORK/ram" 2>/dev/null; rm -rf "$WORK"' EXIT
probe() { $PY -c 'import os, sys; os.close(os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_DIRECT))' "$1" 2>/dev/null; }
probe probe || fail "$WORK refuses O_DIRECT: no direct-I/O run to compare with"
! probe ram/probe || fail "the ramfs accepted O_DIRECT: this test no longer reaches the fallback"

# 64 px: image rows of 12,288 bytes, whole 4 KiB blocks, so the disk run does write them directly.
expect_exit 0 "$SHADEGAN" synth --out syn --count 12 --size 64 --seed 3 \
  --curriculum "$SG_SOURCE_DIR/configs/CATS_ShadeGAN.toml"
expect_exit 0 "$SHADEGAN" shard --synth syn --out disk --shard-size 5
expect_exit 0 "$SHADEGAN" shard --synth syn --out ram/out --shard-size 5
[ "$(ls disk/*.h5 | wc -l)" -eq 3 ] || fail "expected 3 shards on disk"
for f in disk/*.h5; do
  cmp -s "$f" "ram/out/$(basename "$f")" || fail "$(basename "$f") differs between direct I/O and the page cache"
done
$PY - <<'PY' || fail "the manifests' content hashes or shard hashes differ"
import json
a, b = json.load(open("disk/manifest.json")), json.load(open("ram/out/manifest.json"))
assert a["content_hash"] == b["content_hash"], (a["content_hash"], b["content_hash"])
assert [s["xxh3"] for s in a["shards"]] == [s["xxh3"] for s in b["shards"]]
assert a["count"] == b["count"] == 12
PY
# The hash the markers record is the file's: a verifying rerun on the ramfs keeps every shard.
expect_exit 0 "$SHADEGAN" shard --synth syn --out ram/out --shard-size 5 --verify
$PY -c 'import json; m = json.load(open("ram/out/manifest.json")); assert m["shards_kept"] == 3, m["shards_kept"]' ||
  fail "a verifying rerun on the ramfs rebuilt shards: the recorded hashes do not match the files"
echo "shard_no_direct_io_test: ok"
