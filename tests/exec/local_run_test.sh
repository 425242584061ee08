#!/usr/bin/env bash
# shadegan run/status on a diamond of `command` stages: a failing stage stops its dependents
# while independent stages finish (exit 1); the next run resumes at the failed stage; a second
# run with nothing changed does nothing and rewrites no marker; --set, --force, --explain and
# missing outputs rerun exactly what they should.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
export SG_TEST_WORK=$WORK
P=$SG_SOURCE_DIR/tests/fixtures/pipelines/diamond.toml
R=$WORK/run

ran() { sort "$WORK/ran" | uniq -c | awk '{printf "%s=%s ", $2, $1}'; }
markers() { stat -c '%n %i %y' "$R"/state/*.json; }

# 1. right fails: join (after it) is not run, prep/left/solo finish; exit 1.
expect_exit 1 "$SHADEGAN" run "$P" --run-dir "$R"
expect_out 'right failed after .*: exit code 1; log '"$R/logs/right.log"
expect_out '\| .*command exited with code 4'
expect_out 'right: not allowed yet'
expect_out 'join will not run: input right failed'
[ "$(ran)" = "left=1 prep=1 right=1 solo=1 " ] || fail "first run ran: $(ran)"
for s in prep left solo; do [ -f "$R/state/$s.json" ] || fail "no marker for $s"; done
[ ! -e "$R/state/right.json" ] && [ ! -e "$R/state/join.json" ] || fail "markers for right/join"
[ -f "$R/state/right.failed.json" ] || fail "no failure record for right"
[ -f "$R/run.toml" ] && [ -s "$R/logs/right.log" ] && [ -s "$R/logs/run.jsonl" ] && [ -s "$R/logs/prep.jsonl" ] ||
  fail "run.toml or logs missing"

expect_exit 0 "$SHADEGAN" status "$R"
expect_out '^diamond .*5 stages, 3 done, 1 failed, 1 not started'
expect_out 'right +failed +exit 1 at .*: exit code 1'
expect_out '\| right: not allowed yet'
expect_out 'join +not started +waits for right'

expect_exit 0 "$SHADEGAN" run "$P" --run-dir "$R" --dry-run --explain
expect_out 'right +run: previous attempt failed \(exit 1 at'
expect_out 'prep +up to date'

# 2. The next run resumes at the failed stage and redoes nothing finished.
touch "$WORK/ok_right"
expect_exit 0 "$SHADEGAN" run "$P" --run-dir "$R"
expect_out '\[2/2\] join done in'
[ "$(ran)" = "join=1 left=1 prep=1 right=2 solo=1 " ] || fail "resume ran: $(ran)"
[ ! -e "$R/state/right.failed.json" ] || fail "the failure record outlived a successful run"
[ "$(cat "$R/join/join.txt")" = "$(printf 'data\nright')" ] || fail "join.txt: $(cat "$R/join/join.txt")"

# 3. Nothing changed: nothing runs, and no marker (nor run.toml) is rewritten.
before=$(markers; stat -c '%i %y' "$R/run.toml")
expect_exit 0 "$SHADEGAN" run "$P" --run-dir "$R"
expect_out 'nothing to do: all 5 stages of diamond are up to date'
[ "$(markers; stat -c '%i %y' "$R/run.toml")" = "$before" ] || fail "a run with nothing to do rewrote state"
[ "$(ran)" = "join=1 left=1 prep=1 right=2 solo=1 " ] || fail "an up-to-date run ran: $(ran)"

expect_exit 0 "$SHADEGAN" status "$R" --json
/usr/bin/python3 - "$OUT" <<'PY'
import json, sys
j = json.loads(sys.argv[1])
assert j["run"] == "diamond", j
assert [s["state"] for s in j["stages"]] == ["done"] * 5, j
assert [s["name"] for s in j["stages"]] == ["prep", "left", "right", "join", "solo"], j
PY

# 4. A changed parameter reruns exactly that stage and its dependents; --explain says why.
NEW='echo left >> "$SG_TEST_WORK/ran"; cp "$SG_INPUT_PREP/data.txt" left.txt; echo v2 >> left.txt'
expect_exit 0 "$SHADEGAN" run "$P" --run-dir "$R" --dry-run --explain --set "left.run=$NEW"
expect_out 'diamond: 2 of 5 stages would run'
expect_out 'left +run: parameter run changed from "echo left >> .*" to ".*echo v2 >> left.txt"'
expect_out 'join +run: input left changed; input left will rerun'
expect_out 'prep +up to date'
[ "$(markers)" = "$(echo "$before" | head -n -1)" ] || fail "--dry-run changed a marker"
expect_exit 0 "$SHADEGAN" run "$P" --run-dir "$R" --set "left.run=$NEW"
[ "$(ran)" = "join=2 left=2 prep=1 right=2 solo=1 " ] || fail "--set reran: $(ran)"
[ "$(cat "$R/join/join.txt")" = "$(printf 'data\nv2\nright')" ] || fail "join did not see the new left"
# The pipeline file is unchanged, so going back to it reruns left and join again.
expect_exit 0 "$SHADEGAN" run "$P" --run-dir "$R" --dry-run
expect_out 'left +run'

# 5. --force reruns one stage and its dependents.
expect_exit 0 "$SHADEGAN" run "$P" --run-dir "$R"
expect_exit 0 "$SHADEGAN" run "$P" --run-dir "$R" --force right --explain
expect_out 'right +run: forced \(--force right\)'
expect_out 'join +run: input right will rerun'
[ "$(ran)" = "join=4 left=3 prep=1 right=3 solo=1 " ] || fail "--force reran: $(ran)"

# 6. A deleted output makes its stage stale, and only it.
rm "$R/solo/solo.txt"
expect_exit 0 "$SHADEGAN" status "$R"
expect_out 'solo +stale +output solo.txt missing'
expect_exit 0 "$SHADEGAN" run "$P" --run-dir "$R" --explain
expect_out 'solo +run: output solo.txt missing'
[ "$(ran)" = "join=4 left=3 prep=1 right=3 solo=2 " ] || fail "output repair reran: $(ran)"

# 7. The default run directory is runs/<pipeline name> under the current directory.
expect_exit 0 "$SHADEGAN" run "$P" --dry-run
expect_out "5 of 5 stages would run \(run directory $WORK/runs/diamond\)"
echo "local_run_test: ok"
