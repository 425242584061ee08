#!/usr/bin/env bash
# kill -9 of a running `shadegan run` while a stage is working: the stage (and the command it
# runs) dies with it, nothing finished is lost, and the next run completes the pipeline without
# redoing finished stages.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
export SG_TEST_WORK=$WORK
P=$SG_SOURCE_DIR/tests/fixtures/pipelines/slow.toml
R=$WORK/run

wait_gone() {  # wait_gone PID: up to 10 s
  for _ in $(seq 200); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
  fail "process $1 outlived its orchestrator"
}

"$SHADEGAN" run "$P" --run-dir "$R" >"$WORK/run1.log" 2>&1 &
orchestrator=$!
wait_for_file "$R/state/slow.running.json"
wait_for_file "$WORK/slow.pid"
stage_pid=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$R/state/slow.running.json")
command_pid=$(cat "$WORK/slow.pid")
[ -f "$R/state/first.json" ] || fail "first should be done before slow starts"
first_marker=$(stat -c '%i %y' "$R/state/first.json")

expect_exit 0 "$SHADEGAN" status "$R"
expect_out 'slow +running +pid '"$stage_pid"

kill -9 "$orchestrator"
wait "$orchestrator" 2>/dev/null || true
wait_gone "$stage_pid"
wait_gone "$command_pid"
[ ! -e "$R/state/slow.json" ] || fail "slow has a marker although it was killed"

expect_exit 0 "$SHADEGAN" status "$R"
expect_out 'first +done'
expect_out 'slow +stale +previous attempt was interrupted'
expect_exit 0 "$SHADEGAN" run "$P" --run-dir "$R" --dry-run --explain
expect_out 'first +up to date'
expect_out 'slow +run: previous attempt was interrupted'

touch "$WORK/release"
expect_exit 0 "$SHADEGAN" run "$P" --run-dir "$R"
expect_no_out 'first \(command\) started'
[ "$(stat -c '%i %y' "$R/state/first.json")" = "$first_marker" ] || fail "first's marker was rewritten"
[ "$(sort "$WORK/ran" | uniq -c | awk '{printf "%s=%s ", $2, $1}')" = "first=1 last=1 slow=2 " ] ||
  fail "ran: $(cat "$WORK/ran")"
[ "$(cat "$R/last/last.txt")" = slow ] || fail "last.txt"
[ ! -e "$R/state/slow.running.json" ] || fail "a stale running file survived"
expect_exit 0 "$SHADEGAN" run "$P" --run-dir "$R"
expect_out 'nothing to do'
echo "kill_resume_test: ok"
