# A full disk, for real (a small tmpfs): a checkpoint that fails with ENOSPC takes its partial
# directory with it and leaves the last trusted checkpoint and LATEST as they were; training
# stops with the reason; a metrics.jsonl write that fails (ENOSPC from /dev/full) stops training
# naming the file instead of leaving silent holes; with space again the run resumes from that checkpoint.
# Needs root (mount); fails, never skips, without it.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
TINY="$SG_SOURCE_DIR/tests/train/tiny.toml"
FS="$WORK/small"
mkdir -p "$FS"
mount -t tmpfs -o size=200m tmpfs "$FS" || fail "cannot mount a tmpfs at $FS (the test needs root)"
trap 'umount -l "$FS" 2>/dev/null || true' EXIT
R="$FS/r"
expect_exit 0 "$SHADEGAN" synth -o "$R/synth" --count 16 --size 16
expect_exit 0 "$SHADEGAN" shard -o "$R/shard" --synth "$R/synth" --shard-size 8
common=(train --run-dir "$R" --curriculum "$TINY" --ckpt-every 2 --keep 1 --sample-every 0 --threads 1)

# One checkpoint (about 124 MB: the discriminator and both Adam states) fits, a second does not.
expect_exit 1 "$SHADEGAN" "${common[@]}" --stop-step 4
expect_out "No space left on device"
[ "$(cat "$R/train/LATEST")" = step-0000002 ] || fail "LATEST moved: $(cat "$R/train/LATEST")"
leftovers=$(find "$R/train/ckpt" -mindepth 1 -maxdepth 1 -name '.tmp-*')
[ -z "$leftovers" ] || fail "the failed checkpoint left $leftovers"
[ "$(ls "$R/train/ckpt")" = step-0000002 ] || fail "checkpoints: $(ls -a "$R/train/ckpt")"
[ "$(wc -l < "$R/train/logs/metrics.jsonl")" -ge 4 ] || fail "metrics.jsonl lost lines"

# A metrics.jsonl write that fails: the file on a device that answers every write with ENOSPC
# (/dev/full; on the tmpfs a short line still fits in its last page).
mv "$R/train/logs/metrics.jsonl" "$WORK/metrics.jsonl"
ln -s /dev/full "$R/train/logs/metrics.jsonl"
expect_exit 1 "$SHADEGAN" "${common[@]}" --stop-step 4
expect_out "cannot write .*metrics\.jsonl at step 2: No space left on device"
[ "$(cat "$R/train/LATEST")" = step-0000002 ] || fail "LATEST moved: $(cat "$R/train/LATEST")"
rm "$R/train/logs/metrics.jsonl"
mv "$WORK/metrics.jsonl" "$R/train/logs/metrics.jsonl"

# Space again (the tmpfs larger): the run resumes from step 2 to the end.
mount -o remount,size=400m "$FS" || fail "cannot grow the tmpfs"
expect_exit 0 "$SHADEGAN" "${common[@]}" --stop-step 4
expect_out "resuming from .*step-0000002"
[ "$(cat "$R/train/LATEST")" = step-0000004 ] || fail "the resumed run did not reach step 4"
[ "$(ls "$R/train/ckpt")" = step-0000004 ] || fail "checkpoints after the resume: $(ls -a "$R/train/ckpt")"
echo "enospc_test: ok"
