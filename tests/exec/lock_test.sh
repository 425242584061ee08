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

# A lock file naming a process of this host that is gone (no flock held): taken over with a warning.
printf 'pid 999999 on %s since 2026-01-01T00:00:00.000Z' "$(hostname)" > "$R/state/run.lock"
expect_exit 0 "$SHADEGAN" run "$P" --run-dir "$R"
expect_out "taking over the run lock left by a process that is gone \(pid 999999 on $(hostname) "
expect_out 'nothing to do'
# One naming another host: on a cluster file system its flock may not reach us, so that process
# may be alive. Refused (exit 3) naming it, until --break-lock says it is gone.
printf 'pid 4242 on node-17 since 2026-01-01T00:00:00.000Z' > "$R/state/run.lock"
expect_exit 3 "$SHADEGAN" run "$P" --run-dir "$R"
expect_out 'locked by pid 4242 on node-17 since 2026-01-01T00:00:00.000Z and not released'
expect_out 'rerun with --break-lock'
grep -q 'node-17' "$R/state/run.lock" || fail "the refused run rewrote the lock file"
expect_exit 3 "$SHADEGAN" submit "$P" --run-dir "$R" --profile "$SG_SOURCE_DIR/slurm/local.toml"
expect_out 'rerun with --break-lock'
expect_exit 0 "$SHADEGAN" run "$P" --run-dir "$R" --break-lock
expect_out 'taking over the run lock left by another host \(--break-lock\) \(pid 4242 on node-17'
expect_out 'nothing to do'
[ ! -s "$R/state/run.lock" ] || fail "the lock was not released: $(cat "$R/state/run.lock")"
# A file system without flock (Lustre mounted without -o flock answers ENOSYS): a message that
# says so and what to do, not errno's bare text. Simulated with a preloaded flock().
cat > noflock.c <<'CEOF'
#include <errno.h>
int flock(int fd, int op) { (void)fd; (void)op; errno = ENOSYS; return -1; }
CEOF
cc -shared -fPIC -o noflock.so noflock.c || fail "cannot build the flock shim"
LD_PRELOAD="$WORK/noflock.so" expect_exit 1 "$SHADEGAN" run "$P" --run-dir "$R"
expect_out "does not support flock \(Function not implemented\)\. Mount it with flock support \(Lustre: -o flock"
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
