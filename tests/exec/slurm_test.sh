#!/usr/bin/env bash
# shadegan submit / status / cancel / sweep --submit against a REAL single-node Slurm
# (tests/lib/slurm_cluster.sh): a pipeline with dependencies and a job array end to end, a
# failed array task resubmitted alone, preemption -> checkpoint -> requeue -> resume with the
# resumable exit code (a stand-in, then real 2-rank training resuming from its checkpoint), cancel, one squeue call per status refresh,
# hostile sweep values staying literal. Fails (never skips) when Slurm is not installed.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
source "$SG_SOURCE_DIR/tests/lib/slurm_cluster.sh"
slurm_test_cluster

cat > "$WORK/profile.toml" <<TOML
[slurm]
partition = "debug"
time = "00:10:00"
launcher = "mpirun"
requeue_kinds = ["command", "train"]
max_requeues = 3
grace = 30
template = "$SG_SOURCE_DIR/slurm/job.sh.tmpl"
TOML
PROFILE=$WORK/profile.toml

# wait_for CMD...: poll (up to 90 s, or $WAIT_TICKS half-seconds) until CMD succeeds.
wait_for() {
  local i
  for i in $(seq "${WAIT_TICKS:-180}"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  squeue >&2 || true
  fail "timed out waiting for: $*"
}
queue_empty_for() { ! squeue -h -o %A --name="$1" | grep -q .; }

# --- 1. A pipeline end to end: prep -> fan (array of 4) -> join; task 2 fails the first time.
{
  pipeline_header e2e
  command_stage prep 'echo prepared > prep.txt' 'outputs = ["prep.txt"]'
  command_stage fan 'sleep 2; if [ -e "$SG_RUN_DIR/../fail-$SG_TASK_INDEX" ]; then echo "task $SG_TASK_INDEX told to fail"; exit 3; fi; cat "$SG_INPUT_PREP/prep.txt" > "part-$SG_TASK_INDEX.txt"; echo "$SG_TASK_INDEX" >> "part-$SG_TASK_INDEX.txt"' \
    'after = ["prep"]' 'tasks = 4' 'outputs = ["part-{task}.txt"]'
  command_stage join 'cat "$SG_INPUT_FAN"/part-*.txt > all.txt' 'after = ["fan"]' 'outputs = ["all.txt"]'
} > "$WORK/e2e.toml"
RUN="$WORK/runs here/e2e run"   # spaces in the path
touch "$WORK/runs here/fail-2" 2>/dev/null || { mkdir -p "$WORK/runs here"; touch "$WORK/runs here/fail-2"; }
expect_exit 0 "$SHADEGAN" submit "$WORK/e2e.toml" --run-dir "$RUN" --profile "$PROFILE"
expect_out 'prep +job [0-9]+'
expect_out 'fan +job [0-9]+ array of 4 task\(s\) 0-3 \(offset 0\) after [0-9]+'
expect_out 'join +job [0-9]+ after [0-9]+'
# Submitting again while queued queues nothing twice.
expect_exit 0 "$SHADEGAN" submit "$WORK/e2e.toml" --run-dir "$RUN" --profile "$PROFILE"
expect_out 'submitted 0 job'
wait_for queue_empty_for sg-e2e-fan
wait_for queue_empty_for sg-e2e-join
expect_exit 0 "$SHADEGAN" status "$RUN"
expect_out 'prep +done'
expect_out 'fan +failed +3/4 tasks done, failed: 2'
expect_out 'told to fail'
[ ! -e "$RUN/state/join.json" ] || fail "join ran although task 2 of fan failed"
# The failed task alone is submitted again (with join after it).
rm "$WORK/runs here/fail-2"
expect_exit 0 "$SHADEGAN" submit "$WORK/e2e.toml" --run-dir "$RUN" --profile "$PROFILE"
expect_out 'prep +up to date'
expect_out 'fan +job [0-9]+ array of 1 task\(s\) 2 \(offset 0\)'
wait_for test -e "$RUN/state/join.json"
[ "$(wc -l < "$RUN/join/all.txt")" -eq 8 ] || fail "join/all.txt has not the 4 parts: $(cat "$RUN/join/all.txt")"
/usr/bin/python3 - "$RUN" <<'PY'
import json, sys
run = sys.argv[1]
subs = json.load(open(run + "/state/fan.slurm.json"))["submissions"]
assert [s["tasks"] for s in subs] == [[0, 1, 2, 3], [2]], subs
fan = json.load(open(run + "/state/fan.json"))
assert fan["job_id"], fan  # the marker records the Slurm job that finished the stage
for t in range(4):
    tm = json.load(open(f"{run}/state/fan.tasks/{t}.json"))
    assert "_" in tm["job_id"], tm  # <array job>_<index>
PY
expect_exit 0 "$SHADEGAN" status "$RUN"
expect_out 'e2e.*3 stages, 3 done'

# --- 2. Preemption: a stand-in for training that checkpoints on a signal and exits 75.
cat > "$WORK/standin.sh" <<'SH'
#!/bin/sh
# Counts to 20 in 0.3 s steps; its progress file is the "checkpoint". On SIGTERM (forwarded by
# stage-exec) it saves and exits 75; started again, it resumes from the saved step.
n=$(cat progress 2>/dev/null || echo 0)
echo "start at $n" >> starts.txt
trap 'echo "$n" > progress; exit 75' TERM
while [ "$n" -lt 20 ]; do
  n=$((n + 1))
  echo "$n" > progress
  sleep 0.3
done
echo "finished at $n" > result.txt
SH
chmod +x "$WORK/standin.sh"
{ pipeline_header pre; command_stage train "exec \"$WORK/standin.sh\"" 'outputs = ["result.txt"]'; } > "$WORK/preempt.toml"
PRE=$WORK/pre
expect_exit 0 "$SHADEGAN" submit "$WORK/preempt.toml" --run-dir "$PRE" --profile "$PROFILE"
JOB=$(grep -Eo 'train +job [0-9]+' <<<"$OUT" | grep -Eo '[0-9]+$')
progressed() { [ "$(cat "$PRE/train/progress" 2>/dev/null || echo 0)" -ge 3 ]; }
wait_for progressed
scancel --signal=USR2 --batch "$JOB"
wait_for test -e "$PRE/state/train.preempted.json"
requeued() { squeue -h -j "$JOB" -o %T | grep -q PENDING; }
wait_for requeued
expect_exit 0 "$SHADEGAN" status "$PRE"
expect_out 'train +preempted'
scontrol update jobid="$JOB" StartTime=now
wait_for test -e "$PRE/state/train.json"
[ "$(cat "$PRE/train/result.txt")" = "finished at 20" ] || fail "stand-in did not finish at step 20"
[ "$(wc -l < "$PRE/train/starts.txt")" -eq 2 ] || fail "expected 2 starts: $(cat "$PRE/train/starts.txt")"
second=$(sed -n 2p "$PRE/train/starts.txt" | grep -Eo '[0-9]+')
[ "$second" -ge 3 ] || fail "the requeued job did not resume (second start at $second)"
grep -q 'restart count 1' "$PRE/logs/train.log" || fail "SLURM_RESTART_COUNT 1 not logged: $(cat "$PRE/logs/train.log")"
grep -q 'requeueing' "$PRE/logs/train.log" || fail "the script did not requeue"
[ ! -e "$PRE/state/train.preempted.json" ] || fail "preempted note left after the stage finished"

# --- 2b. The same with real training: synth -> shard -> train (tests/train/tiny.toml, 40 steps,
# 2 ranks through mpirun inside the job, a checkpoint only every 1000 steps). USR2 to the batch
# shell reaches the ranks, they agree to stop after the same step, rank 0 checkpoints it, the
# job requeues itself and the restarted job resumes from that checkpoint to step 40.
TR=$WORK/train_run
tiny_train_pipeline slurm_train 'ckpt_every = 1000' 'sample_every = 0' 'threads = 1' > "$WORK/train.toml"
expect_exit 0 "$SHADEGAN" submit "$WORK/train.toml" --run-dir "$TR" --profile "$PROFILE"
TJOB=$(grep -Eo 'train +job [0-9]+' <<<"$OUT" | grep -Eo '[0-9]+$')
trained_a_few() { grep -Eq 'train ([3-9]|[1-9][0-9]+)/' "$TR/logs/train.log"; }
WAIT_TICKS=600 wait_for trained_a_few
scancel --signal=USR2 --batch "$TJOB"
wait_for test -e "$TR/state/train.preempted.json"
tlatest=$(cat "$TR/train/LATEST") || fail "no checkpoint after USR2: $(tail -20 "$TR/logs/train.log")"
tstep=$((10#${tlatest#step-}))
[ "$tstep" -ge 3 ] && [ "$tstep" -lt 40 ] || fail "stopped at $tlatest, expected a step between 3 and 39"
treq() { squeue -h -j "$TJOB" -o %T | grep -q PENDING; }
wait_for treq
# slurmd revokes the old instance's credential at the requeue, to the second: a restart within
# the same second is killed as "Job credential revoked" (Slurm's own requeue delay avoids this).
sleep 2
scontrol update jobid="$TJOB" StartTime=now
WAIT_TICKS=600 wait_for test -e "$TR/state/train.json"
[ "$(cat "$TR/train/LATEST")" = step-0000040 ] || fail "the requeued training did not reach step 40"
grep -q "resuming from .*$tlatest" "$TR/logs/train.log" || fail "the requeued job did not resume from $tlatest"
grep -q 'restart count 1' "$TR/logs/train.log" || fail "SLURM_RESTART_COUNT 1 not logged for training"
grep -q 'SLURM_RESTART_COUNT=1' "$TR/logs/train.log" || fail "the trainer did not log SLURM_RESTART_COUNT=1"

# --- 2c. Preemption as Slurm does it: the training of 2b in partition "low", preempted by a job
# of "urgent" that needs the whole node. Slurm sends SIGTERM to every process of the job (batch
# shell, mpirun, both ranks), SIGKILL after the grace time, and requeues the job itself. mpirun
# exits 1 at once while the ranks still agree to stop and checkpoint: the attempt must be
# recorded as preempted (not failed), the trainer's stop lines must reach the stage log, and
# the requeued job must resume from that checkpoint to the end. The ranks are frozen first
# (slurm_freeze_stage): Slurm's SIGCONT before its SIGTERM wakes them, and the 40-step run cannot
# end before slurmctld gets round to the preemption.
sed 's/^partition = .*/partition = "low"/' "$PROFILE" > "$WORK/low.toml"
PR=$WORK/preempt_run
tiny_train_pipeline slurm_pre 'ckpt_every = 1000' 'sample_every = 0' 'threads = 1' > "$WORK/pre_train.toml"
expect_exit 0 "$SHADEGAN" submit "$WORK/pre_train.toml" --run-dir "$PR" --profile "$WORK/low.toml"
PJOB=$(grep -Eo 'train +job [0-9]+' <<<"$OUT" | grep -Eo '[0-9]+$')
pre_few() { grep -Eq 'train ([3-9]|[1-9][0-9]+)/' "$PR/logs/train.log"; }
WAIT_TICKS=600 wait_for pre_few
slurm_freeze_stage "$PR" train
UJOB=$(sbatch --parsable -p urgent -N 1 -n "$(nproc)" -o /dev/null --wrap 'sleep 5') || fail "cannot submit the urgent job"
wait_for test -e "$PR/state/train.preempted.json"
# The batch script has decided (the job left RUNNING); the attempt is not a failure.
pre_left() { ! squeue -h -j "$PJOB" -o %T | grep -Eq 'RUNNING|COMPLETING'; }
wait_for pre_left
[ ! -e "$PR/state/train.failed.json" ] || fail "the preempted attempt was recorded as failed: $(cat "$PR/state/train.failed.json")"
grep -q 'train: stopped by signal 15 after step' "$PR/logs/train.log" ||
  fail "the trainer's stop message is not in the stage log: $(tail -20 "$PR/logs/train.log")"
plat=$(cat "$PR/train/LATEST") || fail "no checkpoint after the preemption: $(tail -20 "$PR/logs/train.log")"
pstep=$((10#${plat#step-}))
[ "$pstep" -ge 3 ] && [ "$pstep" -lt 40 ] || fail "preempted at $plat, expected a step between 3 and 39"
echo "slurm_test: 2c preempted after step $pstep"
slurm_wait_job "$UJOB" 120 || fail "the urgent job did not end"
ppend() { squeue -h -j "$PJOB" -o %T | grep -q PENDING; }
wait_for ppend
sleep 2  # the credential revocation of 2b
scontrol update jobid="$PJOB" StartTime=now
WAIT_TICKS=600 wait_for test -e "$PR/state/train.json"
[ "$(cat "$PR/train/LATEST")" = step-0000040 ] || fail "the preempted training did not reach step 40"
grep -q "resuming from .*$plat" "$PR/logs/train.log" || fail "the requeued job did not resume from $plat"

# --- 3. Status over many jobs: exactly one squeue call per refresh; then cancel.
mkdir -p "$WORK/bin"
cat > "$WORK/bin/squeue" <<SH
#!/bin/sh
echo call >> "$WORK/squeue.calls"
exec $(command -v squeue) "\$@"
SH
chmod +x "$WORK/bin/squeue"
{
  pipeline_header many
  for i in $(seq 1 12); do command_stage "s$i" 'sleep 60'; done
  command_stage arr 'sleep 60' 'tasks = 40' 'after = ["s1"]'
} > "$WORK/many.toml"
MANY=$WORK/many
expect_exit 0 "$SHADEGAN" submit "$WORK/many.toml" --run-dir "$MANY" --profile "$PROFILE"
rm -f "$WORK/squeue.calls"
PATH="$WORK/bin:$PATH" expect_exit 0 "$SHADEGAN" status "$MANY"
[ "$(wc -l < "$WORK/squeue.calls")" -eq 1 ] || fail "status made $(wc -l < "$WORK/squeue.calls") squeue calls, not 1"
expect_out 'arr +queued'
expect_out 's1 +(running|queued)'
rm -f "$WORK/squeue.calls"
PATH="$WORK/bin:$PATH" expect_exit 0 "$SHADEGAN" cancel "$MANY"
expect_out 'cancelled 13 job'
[ "$(wc -l < "$WORK/squeue.calls")" -eq 1 ] || fail "cancel made more than one squeue call"
wait_for queue_empty_for sg-many-arr
expect_exit 0 "$SHADEGAN" status "$MANY"
expect_no_out 'queued'

# --- 4. Hostile sweep values: literal in the resolved config, nothing executed.
{ pipeline_header hb; command_stage hb true; } > "$WORK/base.toml"
# The values become declared output names: the stage fails (the file is missing) and must not
# have run any of them.
cat > "$WORK/hostile.sweep.toml" <<'TOML'
[sweep]
name = "hostile"
pipeline = "base.toml"
gather = false
[grid]
"hb.outputs" = [["$(touch PWNED1)"], ["`touch PWNED2`"], ["a'; touch PWNED3; echo '"], ["x\ny; touch PWNED4"], ["with space \" quote"]]
TOML
cd "$WORK"
expect_exit 0 "$SHADEGAN" sweep "$WORK/hostile.sweep.toml" --submit --profile "$PROFILE" --runs "$WORK/sweep runs"
ended() { [ -e "$1/state/hb.failed.json" ] || [ -e "$1/state/hb.json" ]; }
n=0
for d in "$WORK/sweep runs/hostile"/*/; do
  wait_for ended "${d%/}"
  [ ! -e "${d%/}/state/hb.json" ] || fail "a stage with a hostile output name claims success"
  n=$((n + 1))
done
[ "$n" -eq 5 ] || fail "expected 5 runs, found $n"
/usr/bin/python3 - "$WORK/sweep runs/hostile" <<'PY'
import glob, json, sys, tomllib
want = {"$(touch PWNED1)", "`touch PWNED2`", "a'; touch PWNED3; echo '", "x\ny; touch PWNED4", "with space \" quote"}
seen = set()
for run in sorted(glob.glob(sys.argv[1] + "/*/run.toml")):
    cfg = tomllib.load(open(run, "rb"))
    v = cfg["stage"][0]["outputs"][0]
    point = json.load(open(run.replace("run.toml", "sweep.json")))["point"]["hb.outputs"][0]
    assert v == point, (v, point)
    seen.add(v)
assert seen == want, seen
PY
if find "$WORK" "$CLUSTER" -name 'PWNED*' | grep -q .; then fail "a hostile value was executed"; fi
echo "slurm_test: ok"
