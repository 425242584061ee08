#!/usr/bin/env bash
# `shadegan train` run directly takes the train stage's lock as the orchestrated stage does: a
# second trainer on the same directory is refused (exit 3, naming the holder) before it writes or
# prunes anything, so another trainer's in-progress checkpoint (.tmp-step-*-<pid>) survives.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
TINY="$SG_SOURCE_DIR/tests/train/tiny.toml"
expect_exit 0 "$SHADEGAN" synth -o r/synth --count 8 --size 16
expect_exit 0 "$SHADEGAN" shard -o r/shard --synth r/synth --shard-size 8
"$SHADEGAN" train --run-dir r --curriculum "$TINY" --stop-step 100000 --ckpt-every 100000 --sample-every 0 \
  --threads 1 > first.log 2>&1 &
FIRST=$!
trap 'kill -9 $FIRST 2>/dev/null || true; rm -rf "$WORK"' EXIT
# Training has started once a step is logged.
for _ in $(seq 1200); do [ -s r/train/logs/metrics.jsonl ] && break; kill -0 $FIRST || break; sleep 0.1; done
[ -s r/train/logs/metrics.jsonl ] || fail "the first trainer did not start: $(cat first.log)"
# The first trainer's checkpoint being written (as save_checkpoint names it).
mkdir -p "r/train/ckpt/.tmp-step-0000050-$FIRST"
echo partial > "r/train/ckpt/.tmp-step-0000050-$FIRST/generator.pth"
expect_exit 3 "$SHADEGAN" train --run-dir r --curriculum "$TINY" --stop-step 2 --ckpt-every 1 --keep 1 --threads 1
expect_out "pid $FIRST"
[ -e "r/train/ckpt/.tmp-step-0000050-$FIRST/generator.pth" ] || fail "the refused trainer deleted the first one's checkpoint in progress"
[ ! -e r/train/ckpt/step-0000001 ] || fail "the refused trainer wrote a checkpoint"
kill -TERM $FIRST
set +e; wait $FIRST; code=$?; set -e
[ "$code" -eq 75 ] || fail "the first trainer exited $code on SIGTERM (expected 75): $(tail -5 first.log)"
# Its lock is released: a trainer may start again (and resumes).
expect_exit 0 "$SHADEGAN" train --run-dir r --curriculum "$TINY" --stop-step 2 --ckpt-every 1 --threads 1 --sample-every 0
echo "train_lock_test: ok"
