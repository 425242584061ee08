#!/usr/bin/env bash
# Hostile text that does reach a shell: a sweep submitted to a real 1-node Slurm with its runs
# folder named with command substitutions, quotes and Slurm's % patterns (it becomes SG_RUN_DIR
# in every job script, the sbatch --output path and stage-exec's arguments); arrays included. Every job runs its
# script; nothing in the text is executed and every stage finds its own directory.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
source "$SG_SOURCE_DIR/tests/lib/slurm_cluster.sh"
slurm_test_cluster
slurm_test_profile profile.toml
# Each task writes the directory it was handed: it succeeds only if the script passed the
# hostile path through intact.
{ pipeline_header hb
  command_stage hb 'printf %s "$SG_STAGE_DIR" > "where-$SG_TASK_INDEX.txt"' 'tasks = 1' 'outputs = ["where-{task}.txt"]'
} > base.toml
cat > h.sweep.toml <<'TOML'
[sweep]
name = "hostile"
pipeline = "base.toml"
gather = false
[grid]
"hb.tasks" = [1, 2]
TOML
RUNS="$WORK/runs \$(touch PWNED3) \`touch PWNED4\` 'q; touch PWNED5; echo ' %j %%"
expect_exit 0 "$SHADEGAN" sweep h.sweep.toml --submit --profile profile.toml --runs "$RUNS"
n=0
for d in "$RUNS/hostile"/*/; do
  [ "$(basename "$d")" = _shared ] && continue
  d=${d%/}
  for _ in $(seq 240); do [ -e "$d/state/hb.json" ] || [ -e "$d/state/hb.failed.json" ] && break; sleep 0.5; done
  [ -e "$d/state/hb.json" ] || fail "stage hb of $d did not finish: $(cat "$d"/logs/hb.log "$d"/logs/slurm/* 2>&1 | tail -20)"
  [ "$(cat "$d/hb/where-0.txt")" = "$d/hb" ] || fail "the job ran in '$(cat "$d/hb/where-0.txt")', not '$d/hb'"
  ls "$d"/logs/slurm/hb-*.out >/dev/null || fail "no Slurm output file under $d/logs/slurm (the % in the path): $(ls -R "$d/logs")"
  n=$((n + 1))
done
[ "$n" -eq 2 ] || fail "expected 2 runs, found $n"
if find "$WORK" "$CLUSTER" / -maxdepth 1 -name 'PWNED*' 2>/dev/null | grep -q . || find "$WORK" "$CLUSTER" -name 'PWNED*' | grep -q .; then
  fail "a hostile text was executed: $(find "$WORK" "$CLUSTER" / -maxdepth 3 -name 'PWNED*' 2>/dev/null)"
fi
echo "slurm_hostile_test: ok"
