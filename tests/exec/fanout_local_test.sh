#!/usr/bin/env bash
# Fan-out stages run locally: the tasks of one stage run concurrently under -j (each waits for
# another to have started), a failed task reruns alone, status counts tasks, and a stage that
# exits 75 (preempted, a stand-in for training) is reported as preempted, not failed, resumes
# on the next run, and `run` exits 75.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"

# Every task of `parts` announces itself and waits (up to 10 s) for one other task to have
# started: only concurrent tasks get through quickly. A task whose fail-<i> flag exists fails.
{
  pipeline_header fan
  command_stage prep 'echo base > base.txt' 'outputs = ["base.txt"]'
  command_stage parts '
touch "$SG_RUN_DIR/started-$SG_TASK_INDEX"
for i in $(seq 100); do [ "$(ls "$SG_RUN_DIR" | grep -c ^started-)" -ge 2 ] && break; sleep 0.1; done
[ -e "$SG_RUN_DIR/fail-$SG_TASK_INDEX" ] && { echo "task $SG_TASK_INDEX fails"; exit 4; }
echo "$SG_TASK_INDEX/$SG_TASK_COUNT" > "part-$SG_TASK_INDEX.txt"
echo run >> "$SG_RUN_DIR/runs-$SG_TASK_INDEX"
' 'after = ["prep"]' 'tasks = 4' 'outputs = ["part-{task}.txt"]'
  command_stage join 'cat "$SG_INPUT_PARTS"/part-*.txt > all.txt' 'after = ["parts"]' 'outputs = ["all.txt"]'
} > fan.toml
R=$WORK/r
mkdir -p "$R"
touch "$R/fail-3"
expect_exit 1 "$SHADEGAN" run fan.toml --run-dir "$R" -j 2
expect_out 'parts failed'
expect_exit 0 "$SHADEGAN" status "$R"
expect_out 'parts +failed +3/4 tasks done, failed: 3'
expect_out 'task 3 fails'
rm "$R/fail-3"
expect_exit 0 "$SHADEGAN" run fan.toml --run-dir "$R" -j 2 --explain
expect_out '3 of 4 tasks done'
[ "$(cat "$R/join/all.txt" | tr '\n' ' ')" = "0/4 1/4 2/4 3/4 " ] || fail "join: $(cat "$R/join/all.txt")"
for i in 0 1 2; do [ "$(wc -l < "$R/runs-$i")" -eq 1 ] || fail "task $i ran again"; done
[ "$(wc -l < "$R/runs-3")" -eq 1 ] || fail "task 3 did not run exactly once after its fix"
/usr/bin/python3 - "$R" <<'PY'
import json, sys
r = sys.argv[1]
m = json.load(open(r + "/state/parts.json"))
assert sorted(o["path"] for o in m["outputs"]) == [f"part-{i}.txt" for i in range(4)], m["outputs"]
for i in range(4):
    t = json.load(open(f"{r}/state/parts.tasks/{i}.json"))
    assert t["fingerprint"] == m["fingerprint"], (t, m)
PY
expect_exit 0 "$SHADEGAN" status "$R"
expect_out '3 stages, 3 done'
# stage-exec --task on a stage that does not fan out is a usage error.
expect_exit 2 "$SHADEGAN" stage-exec --run-dir "$R" --stage join --task 0
expect_out 'does not fan out'

# Preemption, locally: the stand-in saves its step and exits 75 on the first attempt.
{
  pipeline_header pre
  command_stage train '
n=$(cat step 2>/dev/null || echo 0)
echo "start $n" >> starts
if [ "$n" -eq 0 ]; then echo 5 > step; exit 75; fi
echo "done from $n" > result.txt
' 'outputs = ["result.txt"]'
  command_stage after 'cp $SG_INPUT_TRAIN/result.txt .' 'after = ["train"]' 'outputs = ["result.txt"]'
} > pre.toml
P=$WORK/p
expect_exit 75 "$SHADEGAN" run pre.toml --run-dir "$P"
expect_out 'train preempted'
expect_no_out 'train failed'
expect_exit 0 "$SHADEGAN" status "$P"
expect_out 'train +preempted'
expect_out 'after +not started'
expect_exit 0 "$SHADEGAN" run pre.toml --run-dir "$P" --explain
expect_out 'preempted at'
[ "$(cat "$P/after/result.txt")" = "done from 5" ] || fail "the rerun did not resume: $(cat "$P/after/result.txt")"
[ ! -e "$P/state/train.preempted.json" ] || fail "preempted note left behind"
echo "fanout_local_test: ok"
