#!/usr/bin/env bash
# shadegan sweep --local: one run per point under runs/<sweep>/<point>/ with its sweep.json,
# the stage every point shares (same fingerprint) computed once in _shared/<stage>-<fingerprint>,
# and adding a grid value runs only the new point. --dry-run lists the runs and the shared
# stages. (Stages shared by some points only: sweep_pairwise_test.sh.)
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
{
  pipeline_header b
  command_stage data "echo data > d.txt; echo ran >> '$WORK/runs/data-runs'" 'outputs = ["d.txt"]'
  command_stage work 'cat "$SG_INPUT_DATA/d.txt" > "w-$SG_TASK_INDEX.txt"; echo "$SG_TASK_COUNT" >> "$SG_RUN_DIR/work-runs"' \
    'after = ["data"]' 'tasks = 1' 'outputs = ["w-{task}.txt"]'
} > base.toml
write_sweep() {
  cat > s.sweep.toml <<TOML
[sweep]
name = "sw"
pipeline = "base.toml"
gather = false
[grid]
"work.tasks" = [$1]
TOML
}
write_sweep "1, 2, 3"
expect_exit 0 "$SHADEGAN" sweep s.sweep.toml --dry-run --runs "$WORK/runs"
expect_out 'sweep sw: 3 runs'
expect_out 'shared stages: 1 copies, 1 to compute'
expect_out 'data-[0-9a-f]{16} +by all 3 runs +\(to run\)'
expect_out 'tasks-2 +work.tasks=2'
[ ! -e "$WORK/runs" ] || fail "--dry-run wrote something"
expect_exit 0 "$SHADEGAN" sweep s.sweep.toml --local -j 2 --runs "$WORK/runs"
[ "$(wc -l < "$WORK/runs/data-runs")" -eq 1 ] || fail "the shared stage ran $(wc -l < "$WORK/runs/data-runs") times"
for n in 1 2 3; do
  d="$WORK/runs/sw/tasks-$n"
  [ -e "$d/work/w-$((n - 1)).txt" ] || fail "point tasks-$n lacks its last task's output"
  [ "$(wc -l < "$d/work-runs")" -eq "$n" ] || fail "point tasks-$n ran $(wc -l < "$d/work-runs") tasks"
  /usr/bin/python3 - "$d/sweep.json" "$n" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j == {"sweep": "sw", "run": f"tasks-{sys.argv[2]}", "point": {"work.tasks": int(sys.argv[2])}}, j
PY
  expect_exit 0 "$SHADEGAN" status "$d"
  expect_out '2 stages, 2 done'
done
# One more grid value: only the new point runs.
write_sweep "1, 2, 3, 4"
expect_exit 0 "$SHADEGAN" sweep s.sweep.toml --local --runs "$WORK/runs"
[ "$(wc -l < "$WORK/runs/data-runs")" -eq 1 ] || fail "the shared stage ran again"
[ "$(wc -l < "$WORK/runs/sw/tasks-4/work-runs")" -eq 4 ] || fail "the new point did not run its 4 tasks"
for n in 1 2 3; do
  [ "$(wc -l < "$WORK/runs/sw/tasks-$n/work-runs")" -eq "$n" ] || fail "point tasks-$n ran again"
done
# A key that matches no stage names the sweep file's line and the stages.
printf '[sweep]\nname = "x"\npipeline = "base.toml"\n[grid]\n"wrok.tasks" = [1]\n' > bad.toml
expect_exit 2 "$SHADEGAN" sweep bad.toml --dry-run --runs "$WORK/runs"
expect_out "bad.toml:5.*did you mean 'work'"
# A link to _shared that no longer fits (the point's stage stopped being shared) is never
# written through: the point gets its own directory and marker, _shared keeps its results.
{
  pipeline_header b2
  command_stage data 'echo $DATA_TEXT > d.txt' 'outputs = ["d.txt"]'
  command_stage work 'cat "$SG_INPUT_DATA/d.txt" > "w-$SG_TASK_INDEX.txt"' 'after = ["data"]' 'tasks = 1' 'outputs = ["w-{task}.txt"]'
} > base2.toml
sed -i 's/\$DATA_TEXT/first/' base2.toml
printf '[sweep]\nname = "st"\npipeline = "base2.toml"\ngather = false\n[grid]\n"work.tasks" = [1, 2]\n' > st.sweep.toml
expect_exit 0 "$SHADEGAN" sweep st.sweep.toml --local --runs "$WORK/runs"
[ -L "$WORK/runs/st/tasks-1/data" ] || fail "tasks-1/data is not a link into _shared"
copy=$(readlink "$WORK/runs/st/tasks-1/data")
[[ "$copy" =~ ^\.\./_shared/data-[0-9a-f]{16}/data$ ]] || fail "tasks-1/data links '$copy', not _shared/data-<fingerprint>/data"
sed -i 's/first/second/' base2.toml
printf '[sweep]\nname = "st"\npipeline = "base2.toml"\ngather = false\n[grid]\n"work.tasks" = [1]\n' > st.sweep.toml
expect_exit 0 "$SHADEGAN" sweep st.sweep.toml --local --runs "$WORK/runs"
[ "$(cat "$WORK/runs/st/tasks-1/$copy/d.txt")" = first ] || fail "the point wrote through its stale link into _shared"
[ ! -L "$WORK/runs/st/tasks-1/data" ] && [ ! -L "$WORK/runs/st/tasks-1/state/data.json" ] ||
  fail "tasks-1 still links its data stage into _shared"
[ "$(cat "$WORK/runs/st/tasks-1/work/w-0.txt")" = second ] || fail "tasks-1 did not run on its own data"
# A value with '.' keeps it in the point's name (outputs-__x.2__), which a pipeline's name may not
# have: the run.toml the point's stages are rebuilt from must still read back.
{ pipeline_header b3; command_stage w 'touch x.1 x.2' 'outputs = ["x.1"]'; } > base3.toml
printf '[sweep]\nname = "dots"\npipeline = "base3.toml"\ngather = false\n[grid]\n"w.outputs" = [["x.1"], ["x.2"]]\n' > dots.sweep.toml
expect_exit 0 "$SHADEGAN" sweep dots.sweep.toml --local --runs "$WORK/runs"
[ -e "$WORK/runs/dots/outputs-__x.2__/state/w.json" ] || fail "the point with a '.' in its name did not run: $OUT"
# A stage one point computed alone moves into a shared copy when a second point comes to agree
# on it: the dry run says so, and it is not computed again.
{
  pipeline_header b4
  command_stage data "echo d > d.txt; echo ran >> '$WORK/grow-runs'" 'outputs = ["d.txt"]'
  command_stage work 'cat "$SG_INPUT_DATA/d.txt" > "w-$SG_TASK_INDEX.txt"' 'after = ["data"]' 'tasks = 1' 'outputs = ["w-{task}.txt"]'
} > base4.toml
printf '[sweep]\nname = "grow"\npipeline = "base4.toml"\ngather = false\n[grid]\n"work.tasks" = [1]\n' > grow.sweep.toml
expect_exit 0 "$SHADEGAN" sweep grow.sweep.toml --local --runs "$WORK/runs"
expect_out 'shared stages: none'
[ ! -L "$WORK/runs/grow/tasks-1/data" ] || fail "a stage of one point was linked"
printf '[sweep]\nname = "grow"\npipeline = "base4.toml"\ngather = false\n[grid]\n"work.tasks" = [1, 2]\n' > grow.sweep.toml
expect_exit 0 "$SHADEGAN" sweep grow.sweep.toml --dry-run --runs "$WORK/runs"
expect_out 'shared stages: 1 copies, 0 to compute'
expect_out "data-[0-9a-f]{16} +by all 2 runs +\(done in $WORK/runs/grow/tasks-1, moves here\)"
expect_exit 0 "$SHADEGAN" sweep grow.sweep.toml --local --runs "$WORK/runs"
[ "$(wc -l < "$WORK/grow-runs")" -eq 1 ] || fail "data ran again when a second point came to share it"
[ -L "$WORK/runs/grow/tasks-1/data" ] && [ -L "$WORK/runs/grow/tasks-2/data" ] || fail "the points do not link the copy"
[ "$(cat "$WORK/runs/grow/tasks-2/work/w-1.txt")" = d ] || fail "tasks-2 did not read the moved data"
# A copy that fails stops only the points that read it: the others run, and the sweep exits 1.
{
  pipeline_header b5
  command_stage fit 'if [ "$SG_TASK_COUNT" = 2 ]; then exit 3; fi; echo "$SG_TASK_COUNT" > "f-$SG_TASK_INDEX.txt"' \
    'tasks = 1' 'outputs = ["f-{task}.txt"]'
  command_stage score 'cat "$SG_INPUT_FIT"/f-*.txt > s.txt; touch a b' 'after = ["fit"]' 'outputs = ["a"]'
} > base5.toml
printf '[sweep]\nname = "fails"\npipeline = "base5.toml"\ngather = false\n[grid]\n"fit.tasks" = [1, 2]\n"score.outputs" = [["a"], ["b"]]\n' > fails.sweep.toml
expect_exit 1 "$SHADEGAN" sweep fails.sweep.toml --local --runs "$WORK/runs"
expect_out "not running tasks-2_outputs-__b__: the shared copy it reads, fit-[0-9a-f]{16}, did not finish"
for o in a b; do
  [ -e "$WORK/runs/fails/tasks-1_outputs-__${o}__/state/score.json" ] || fail "tasks-1_outputs-__${o}__ did not run beside the failed copy: $OUT"
  [ ! -e "$WORK/runs/fails/tasks-2_outputs-__${o}__/score" ] || fail "tasks-2_outputs-__${o}__ ran its score on a failed fit"
done
echo "sweep_test: ok"
