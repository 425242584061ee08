#!/usr/bin/env bash
# Ctrl-C (SIGINT) to a running `shadegan run`: the running stage is asked to stop, nothing new
# starts, `run` exits 75 (preempted: rerun to resume) instead of dying with its children, the
# finished stage keeps its marker, and the next run finishes the pipeline from where it stopped.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
export SG_TEST_WORK=$WORK
P=$SG_SOURCE_DIR/tests/fixtures/pipelines/slow.toml
R=$WORK/run

"$SHADEGAN" run "$P" --run-dir "$R" >"$WORK/run1.log" 2>&1 &
orchestrator=$!
wait_for_file "$WORK/slow.pid"
command_pid=$(cat "$WORK/slow.pid")
kill -INT "$orchestrator"
set +e; wait "$orchestrator"; code=$?; set -e
[ "$code" -eq 75 ] || fail "run exited $code after SIGINT, expected 75: $(cat "$WORK/run1.log")"
grep -q 'stop requested (signal 2)' "$WORK/run1.log" || fail "run did not say it was stopping: $(cat "$WORK/run1.log")"
! kill -0 "$command_pid" 2>/dev/null || fail "the slow stage's command outlived the stop"
[ -f "$R/state/first.json" ] || fail "first lost its marker"
[ ! -e "$R/state/slow.json" ] || fail "slow has a marker although it was stopped"
[ ! -e "$R/last" ] || fail "last started after the stop"

expect_exit 0 "$SHADEGAN" status "$R"
expect_out 'first +done'
expect_out 'slow +preempted'

touch "$WORK/release"
expect_exit 0 "$SHADEGAN" run "$P" --run-dir "$R"
expect_no_out 'first \(command\) started'
[ "$(cat "$R/last/last.txt")" = slow ] || fail "last.txt"

# The same through mpirun: training on 2 ranks that checkpoints only every 1000 steps. SIGINT to
# `run` reaches the ranks (SIGUSR1 through mpirun), they checkpoint the step they finished and
# exit 75, and the next run resumes from that checkpoint to the end: nothing was lost.
T=$WORK/train_pipeline
mkdir -p "$T"
tiny_train_pipeline stop_train 'ckpt_every = 1000' 'sample_every = 0' 'threads = 1' > "$T/p.toml"
"$SHADEGAN" run "$T/p.toml" --run-dir "$T/run" >"$WORK/run2.log" 2>&1 &
orchestrator=$!
# Wait until training has done a few steps (its progress lines name the step).
for _ in $(seq 1200); do
  grep -Eq 'train ([3-9]|[1-9][0-9]+)/' "$T/run/logs/train.log" 2>/dev/null && break; sleep 0.05
done
grep -Eq 'train ([3-9]|[1-9][0-9]+)/' "$T/run/logs/train.log" || fail "training made no progress: $(cat "$WORK/run2.log")"
kill -INT "$orchestrator"
set +e; wait "$orchestrator"; code=$?; set -e
[ "$code" -eq 75 ] || fail "run exited $code after SIGINT during training, expected 75: $(tail -20 "$T/run/logs/train.log")"
latest=$(cat "$T/run/train/LATEST") || fail "no checkpoint after the stop: $(tail -20 "$T/run/logs/train.log")"
step=$((10#${latest#step-}))
[ "$step" -ge 3 ] && [ "$step" -lt 40 ] || fail "stopped at $latest, expected a step between 3 and 39 (tiny.toml ends at 40)"
expect_exit 0 "$SHADEGAN" status "$T/run"
expect_out 'train +preempted'
expect_exit 0 "$SHADEGAN" run "$T/p.toml" --run-dir "$T/run"
grep -q "resuming from .*$latest" "$T/run/logs/train.log" || fail "the rerun did not resume from $latest"
[ "$(cat "$T/run/train/LATEST")" = step-0000040 ] || fail "the rerun did not train to the end (step 40)"
echo "run_stop_test: ok"
