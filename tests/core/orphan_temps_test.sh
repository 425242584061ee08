#!/usr/bin/env bash
# Temporaries left by a writer killed with kill -9 are collected by the next run (each removal
# logged), in every directory of the run (a stage's files, a shard's HDF5 temporary, a
# checkpoint directory being written); a live process's temporary is never touched.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
sleep 600 &
LIVE=$!
trap 'kill $LIVE 2>/dev/null || true; rm -rf "$WORK"' EXIT
# The stage writes a temporary named like atomic_file's (".<name>.tmp-<pid>", here the shell's
# pid) and is killed with SIGKILL mid-write the first time; the second time it finishes.
{
  pipeline_header orphans
  command_stage w 'echo partial > ".part.txt.tmp-$$"
if [ ! -e "$SG_RUN_DIR/../second" ]; then kill -9 $$; fi
rm -f ".part.txt.tmp-$$"; echo whole > part.txt' 'outputs = ["part.txt"]'
} > p.toml
RUN=$WORK/run
expect_exit 1 "$SHADEGAN" run p.toml --run-dir "$RUN"
DEAD=$(cd "$RUN/w" && ls -a | grep -E '^\.part\.txt\.tmp-[0-9]+$') || fail "the killed stage left no temporary: $(ls -a "$RUN/w")"
DEADPID=${DEAD##*-}
! kill -0 "$DEADPID" 2>/dev/null || fail "the writer $DEADPID is still alive"
# More leftovers of dead writers elsewhere in the run, and temporaries of a live process.
mkdir -p "$RUN/shard" "$RUN/train/ckpt/.tmp-step-0000004-$DEADPID" "$RUN/train/ckpt/.tmp-step-0000006-$LIVE"
echo x > "$RUN/shard/.shard-00000.h5.tmp-$DEADPID"
echo x > "$RUN/train/ckpt/.tmp-step-0000004-$DEADPID/generator.pth"
echo x > "$RUN/shard/.shard-00001.h5.tmp-$LIVE"
echo x > "$RUN/train/ckpt/.tmp-step-0000006-$LIVE/generator.pth"
touch "$WORK/second"
expect_exit 0 "$SHADEGAN" run p.toml --run-dir "$RUN"
for f in "w/$DEAD" "shard/.shard-00000.h5.tmp-$DEADPID" "train/ckpt/.tmp-step-0000004-$DEADPID"; do
  [ ! -e "$RUN/$f" ] || fail "the orphan $f was not removed"
  expect_out "removed $RUN/$f .*process $DEADPID which is gone"
done
for f in "shard/.shard-00001.h5.tmp-$LIVE" "train/ckpt/.tmp-step-0000006-$LIVE/generator.pth"; do
  [ -e "$RUN/$f" ] || fail "a live process's temporary $f was removed"
done
[ "$(cat "$RUN/w/part.txt")" = whole ] || fail "the stage did not finish on its second attempt"
echo "orphan_temps_test: ok"
