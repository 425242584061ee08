#!/usr/bin/env bash
# sweep --submit on a REAL 1-node Slurm (tests/lib/slurm_cluster.sh) with stages shared by all
# points and by some: 2 `fit` settings x 3 `score` settings. The data job is submitted once
# for all six points, each fit once for the three points that agree on it, and each point's
# score job waits for its own fit's job (the jobs sleep, so a missing dependency would read a
# fit that is not there yet). Submitting again queues nothing. Fails (never skips) when Slurm
# is not installed.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
source "$SG_SOURCE_DIR/tests/lib/slurm_cluster.sh"
slurm_test_cluster
slurm_test_profile profile.toml
# Each stage appends to a file beside the runs what ran: data once, fit once per task of each
# copy (tasks = 1 or 2, an array), score once per point.
{
  pipeline_header sh
  command_stage data "sleep 2; echo data > d.txt; echo ran >> '$WORK/ran-data'" 'outputs = ["d.txt"]'
  command_stage fit "sleep 2; cat \"\$SG_INPUT_DATA/d.txt\" > /dev/null; echo \"\$SG_TASK_COUNT\" > f-\$SG_TASK_INDEX.txt; echo \"\$SG_TASK_COUNT \$SG_TASK_INDEX\" >> '$WORK/ran-fit'" \
    'after = ["data"]' 'tasks = 1' 'outputs = ["f-{task}.txt"]'
  command_stage score "cat \"\$SG_INPUT_FIT\"/f-*.txt > seen.txt; touch a.txt b.txt c.txt; echo ran >> '$WORK/ran-score'" \
    'after = ["fit"]' 'outputs = ["a.txt"]'
} > base.toml
cat > sh.sweep.toml <<'TOML'
[sweep]
name = "sh"
pipeline = "base.toml"
gather = false
[grid]
"fit.tasks" = [1, 2]
"score.outputs" = [["a.txt"], ["b.txt"], ["c.txt"]]
TOML
R="$WORK/runs/sh"
expect_exit 0 "$SHADEGAN" sweep sh.sweep.toml --submit --profile profile.toml --runs "$WORK/runs"
SUBMIT=$OUT
# The copies' jobs: data once, each fit once (fit of 2 tasks as an array), after data's job.
data_job=$(grep -A1 -E '^data-[0-9a-f]{16} \(shared, by all 6 runs\)' <<<"$SUBMIT" | grep -Eo 'data +job [0-9]+' | grep -Eo '[0-9]+$') ||
  fail "data's copy was not submitted once for all six runs: $SUBMIT"
fit1_job=$(grep -A1 -E '^fit-[0-9a-f]{16} \(shared, by 3 runs: tasks-1_' <<<"$SUBMIT" | grep -Eo "fit +job [0-9]+ after $data_job\$" | grep -Eo 'job [0-9]+' | cut -d' ' -f2) ||
  fail "fit (1 task) was not submitted once, after data's job $data_job: $SUBMIT"
fit2_job=$(grep -A1 -E '^fit-[0-9a-f]{16} \(shared, by 3 runs: tasks-2_' <<<"$SUBMIT" | grep -Eo "fit +job [0-9]+ array of 2 task\(s\) 0-1 \(offset 0\) after $data_job\$" | grep -Eo 'job [0-9]+' | cut -d' ' -f2) ||
  fail "fit (2 tasks) was not submitted once as an array, after data's job $data_job: $SUBMIT"
[ "$(grep -cE '^  (data|fit) +job' <<<"$SUBMIT")" -eq 3 ] || fail "data or fit submitted more than once: $SUBMIT"
# Every point submits its own score, after its fit's job, and nothing else.
for t in 1 2; do
  job=$fit1_job; [ "$t" -eq 1 ] || job=$fit2_job
  for o in a.txt b.txt c.txt; do
    p="tasks-${t}_outputs-__${o}__"
    grep -A1 -E "^$p:\$" <<<"$SUBMIT" | grep -Eq "^  score +job [0-9]+ after $job\$" ||
      fail "point $p's score does not wait for its fit's job $job: $SUBMIT"
  done
done
# Wait for every point's score.
for d in "$R"/tasks-*; do
  for _ in $(seq 240); do [ -e "$d/state/score.json" ] || [ -e "$d/state/score.failed.json" ] && break; sleep 0.5; done
  [ -e "$d/state/score.json" ] || fail "score of $d did not finish: $(cat "$d"/logs/score.log "$d"/logs/slurm/* 2>&1 | tail -20)"
done
[ "$(wc -l < "$WORK/ran-data")" -eq 1 ] || fail "data ran $(wc -l < "$WORK/ran-data") times"
[ "$(sort "$WORK/ran-fit" | tr '\n' ' ')" = "1 0 2 0 2 1 " ] || fail "fit's tasks ran as: $(sort "$WORK/ran-fit" | tr '\n' ' ') (want each copy's tasks once: 1 0, 2 0, 2 1)"
[ "$(wc -l < "$WORK/ran-score")" -eq 6 ] || fail "score ran $(wc -l < "$WORK/ran-score") times, not 6"
for t in 1 2; do
  for d in "$R"/tasks-${t}_*; do
    [ "$(sort -u "$d/score/seen.txt")" = "$t" ] || fail "$d's score read '$(cat "$d/score/seen.txt")', not its own fit's $t task(s)"
    [ -L "$d/fit" ] && [ -L "$d/data" ] || fail "$d does not link its shared stages"
    expect_exit 0 "$SHADEGAN" status "$d"
    expect_out '3 stages, 3 done'
  done
done
# Again: everything is done, nothing is submitted.
expect_exit 0 "$SHADEGAN" sweep sh.sweep.toml --submit --profile profile.toml --runs "$WORK/runs"
expect_no_out 'job [0-9]+'
echo "slurm_sweep_test: ok"
