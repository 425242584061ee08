#!/usr/bin/env bash
# One `run` per run directory: a second concurrent run fails at once with exit 3 naming the
# holder (a dry run still works), and a lock left by a dead process is taken over.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
export SG_TEST_WORK=$WORK
P=$SG_SOURCE_DIR/tests/fixtures/pipelines/slow.toml
R=$WORK/run


"$SHADEGAN" run "$P" --run-dir "$R" >"$WORK/run1.log" 2>&1 &
holder=$!
wait_for_file "$R/state/slow.running.json"

expect_exit 3 "$SHADEGAN" run "$P" --run-dir "$R"
expect_out "run directory is in use by another shadegan process \(pid $holder on "
expect_exit 3 "$SHADEGAN" run "$P" --run-dir "$R" --force first
expect_exit 0 "$SHADEGAN" run "$P" --run-dir "$R" --dry-run --explain
expect_out 'slow +run: running now \(pid [0-9]+\)'
expect_exit 0 "$SHADEGAN" status "$R"
expect_out 'slow +running'

touch "$WORK/release"
wait "$holder" || fail "the first run failed: $(cat "$WORK/run1.log")"
grep -q 'slow' "$WORK/ran" || fail "slow did not run"
[ "$(grep -c first "$WORK/ran")" = 1 ] || fail "first ran twice"

# A lock file naming a process that is gone (no flock held): taken over with a warning.
printf 'pid 999999 on elsewhere since 2026-01-01T00:00:00.000Z' > "$R/state/run.lock"
expect_exit 0 "$SHADEGAN" run "$P" --run-dir "$R"
expect_out 'taking over the run lock left by a process that is gone \(pid 999999 on elsewhere'
expect_out 'nothing to do'
# A stage-exec left alive by an earlier, killed run: a new run refuses to start a twin.
sh -c 'while [ ! -e "$0" ]; do sleep 0.05; done' "$WORK/stop-leftover" stage-exec &
leftover=$!
for _ in $(seq 200); do grep -q stage-exec "/proc/$leftover/cmdline" 2>/dev/null && break; sleep 0.05; done
printf '{"pid": %d, "host": "%s", "started": "then"}' "$leftover" "$(hostname)" > "$R/state/last.running.json"
expect_exit 3 "$SHADEGAN" run "$P" --run-dir "$R"
expect_out "stage last of $R is still running \(pid $leftover, left by an earlier run\)"
touch "$WORK/stop-leftover"; wait "$leftover"
expect_exit 0 "$SHADEGAN" run "$P" --run-dir "$R"
echo "lock_test: ok"
