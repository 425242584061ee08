#!/usr/bin/env bash
# A pipeline on a REAL 2-node Slurm (tests/lib/slurm_cluster.sh: slurm_start_two, two slurmd on
# this host): every MPI stage runs one rank per node through mpirun. The shard stage's two ranks
# (rank 0 on n1, rank 1 on n2) write their shards into one directory; training (gradients
# all-reduced across the nodes) is preempted as Slurm does it (a job of partition "urgent" needs
# both nodes: SIGTERM to every process of the job on both nodes, then requeue), resumes from its
# checkpoint to the end, and ends with the same parameters, bit for bit, as an uninterrupted
# 2-rank run. Fails, never skips, when Slurm is missing: the 2-node path must be tested.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
source "$SG_SOURCE_DIR/tests/lib/slurm_cluster.sh"
for tool in slurmctld slurmd munged sbatch squeue scontrol sinfo mpirun; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (install.sh installs slurm-wlm, munge and Open MPI): the 2-node test cannot run"
done
# A short path: the munge socket lives here and UNIX socket paths are limited to 108 bytes.
CLUSTER=$(mktemp -d /tmp/sg-two.XXXXXX)
trap 'slurm_stop; rm -rf "$WORK" "$CLUSTER"' EXIT
slurm_start_two "$CLUSTER" || fail "slurmctld and the two slurmd did not start (logs above)"

# Every MPI stage on both nodes. --bind-to none: both "nodes" are this host, and Open MPI would
# bind each node's only rank to the same core 0.
cat > "$WORK/profile.toml" <<TOML
[slurm]
partition = "debug"
time = "00:15:00"
nodes = 2
launcher = "mpirun"
launcher_args = ["--bind-to", "none"]
requeue_kinds = ["train"]
max_requeues = 3
grace = 30
template = "$SG_SOURCE_DIR/slurm/job.sh.tmpl"

[kind.train]
partition = "low"
TOML

# wait_for CMD...: poll (up to 5 minutes, or $WAIT_TICKS half-seconds) until CMD succeeds.
wait_for() {
  local i
  for i in $(seq "${WAIT_TICKS:-600}"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  squeue >&2 || true
  fail "timed out waiting for: $*"
}
job_of() { grep -Eo "$1 +job [0-9]+" <<<"$SUBMIT_OUT" | grep -Eo '[0-9]+$'; }

# The tiny curriculum for 40 steps on 2 ranks, one thread each, a checkpoint only at the end
# (and when stopped), with the defaults otherwise (oneDNN convolutions on).
tiny_train_pipeline two_node 'ckpt_every = 1000' 'sample_every = 0' 'threads = 1' > "$WORK/two.toml"
RUN=$WORK/slurm_run
expect_exit 0 "$SHADEGAN" submit "$WORK/two.toml" --run-dir "$RUN" --profile "$WORK/profile.toml"
SUBMIT_OUT=$OUT
SHARD_JOB=$(job_of shard)
TJOB=$(job_of train)
[ -n "$SHARD_JOB" ] && [ -n "$TJOB" ] || fail "submit did not print the shard and train jobs: $OUT"

# --- The shard stage: one rank per node, both shards in one directory.
wait_for test -e "$RUN/state/shard.json"
scontrol show job "$SHARD_JOB" | grep -q 'NodeList=n\[1-2\]' ||
  fail "the shard job did not run on n1 and n2: $(scontrol show job "$SHARD_JOB")"
# Rank 1 ran on n2: mpirun started its daemon there as a step of the shard job.
grep -Eq "launch task StepId=$SHARD_JOB\.0 " "$CLUSTER/log/slurmd.n2.log" ||
  fail "no step of the shard job ran on n2: $(grep -E "StepId=$SHARD_JOB" "$CLUSTER"/log/slurmd.*.log)"
/usr/bin/python3 - "$RUN/shard" <<'PY' || fail "the shard directory does not hold both ranks' shards"
import json, os, sys
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
files = [s["file"] for s in m["shards"]]
assert len(files) == 2 and m["count"] == 16, m
for f in files:
    assert os.path.getsize(os.path.join(d, f)) > 0, f
PY

# --- Training on both nodes, preempted by an urgent job that needs both nodes.
trained_a_few() { grep -Eq 'train ([3-9]|[1-9][0-9]+)/' "$RUN/logs/train.log"; }
wait_for trained_a_few
grep -q '2 rank(s)' "$RUN/logs/train.log" || fail "training did not start on 2 ranks: $(tail -20 "$RUN/logs/train.log")"
slurm_freeze_stage "$RUN" train
UJOB=$(sbatch --parsable -p urgent -N 2 -n 2 -o /dev/null --wrap 'sleep 5') || fail "cannot submit the urgent job"
wait_for test -e "$RUN/state/train.preempted.json"
left_running() { ! squeue -h -j "$TJOB" -o %T | grep -Eq 'RUNNING|COMPLETING'; }
wait_for left_running
[ ! -e "$RUN/state/train.failed.json" ] || fail "the preempted attempt was recorded as failed: $(cat "$RUN/state/train.failed.json")"
grep -q 'train: stopped by signal 15 after step' "$RUN/logs/train.log" ||
  fail "the trainer's stop message is not in the stage log: $(tail -30 "$RUN/logs/train.log")"
latest=$(cat "$RUN/train/LATEST") || fail "no checkpoint after the preemption: $(tail -30 "$RUN/logs/train.log")"
step=$((10#${latest#step-}))
[ "$step" -ge 3 ] && [ "$step" -lt 40 ] || fail "preempted at $latest, expected a step between 3 and 39"
slurm_wait_job "$UJOB" 120 || fail "the urgent job did not end"
pending() { squeue -h -j "$TJOB" -o %T | grep -q PENDING; }
wait_for pending
# slurmd revokes the old instance's credential at the requeue, to the second: a restart within
# the same second would be killed as "Job credential revoked".
sleep 2
scontrol update jobid="$TJOB" StartTime=now
wait_for test -e "$RUN/state/train.json"
[ "$(cat "$RUN/train/LATEST")" = step-0000040 ] || fail "the preempted training did not reach step 40"
grep -q "resuming from .*$latest" "$RUN/logs/train.log" || fail "the requeued job did not resume from $latest"
grep -q 'restart count 1' "$RUN/logs/train.log" || fail "Slurm did not requeue the job (restart count 1 not logged)"
scontrol show job "$TJOB" | grep -q 'NodeList=n\[1-2\]' || fail "training did not run on n1 and n2"

# --- The same pipeline uninterrupted on 2 ranks of this host: the same final parameters.
REF=$WORK/local_run
expect_exit 0 "$SHADEGAN" run "$WORK/two.toml" --run-dir "$REF"
[ "$(cat "$REF/train/LATEST")" = step-0000040 ] || fail "the uninterrupted run did not reach step 40"
# The resume is exact: every step's losses and gradient norms equal the uninterrupted run's, and
# at step 40 so do the weights, EMAs and both optimizers' state, bit for bit. (Before the
# checkpoint kept which parameters hold a zeroed gradient, train/checkpoint.cpp, the runs agreed
# only for some steps after the resume, then drifted apart.)
/usr/bin/python3 - "$RUN/train/logs/metrics.jsonl" "$REF/train/logs/metrics.jsonl" "$step" <<'PY' ||
import json, sys
keys = ("d_loss", "g_loss", "depth_loss", "r1", "d_grad_norm", "g_grad_norm")
def steps(path):
    out = {}
    for line in open(path):
        m = json.loads(line)
        out[m["step"]] = tuple(m[k] for k in keys)  # a resumed run's later lines win
    return out
a, b, stop = steps(sys.argv[1]), steps(sys.argv[2]), int(sys.argv[3])
assert sorted(a) == sorted(b) == list(range(40)), (sorted(a), sorted(b))
for s in range(40):
    assert a[s] == b[s], f"step {s} (preempted after step {stop}): {keys} = {a[s]} against the uninterrupted run's {b[s]}"
PY
  fail "the resumed run is not the uninterrupted run continued"
same_training_state "$RUN/train/ckpt/step-0000040" "$REF/train/ckpt/step-0000040"
echo "two_node_test: ok (preempted after step $step, resumed to 40, the same training state)"
