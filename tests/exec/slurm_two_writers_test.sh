#!/usr/bin/env bash
# Two writers on one run directory through Slurm (real 1-node cluster, tests/lib/slurm_cluster.sh):
# `run` refuses (exit 3, naming the job) while a stage of the run is queued or running on Slurm,
# and `submit` after a parameter change refuses (exit 3) instead of leaving the old job queued
# to run the new configuration. Fails, never skips, when Slurm is missing.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
source "$SG_SOURCE_DIR/tests/lib/slurm_cluster.sh"
slurm_test_cluster
# Held: the job stays pending until cancelled, so nothing here depends on timing.
slurm_test_profile profile.toml 'extra = ["--hold"]'
write_pipeline() {
  { pipeline_header tw
    command_stage slow "echo $1 > out.txt; sleep 120" 'outputs = ["out.txt"]'
  } > tw.toml
}
write_pipeline one
RUN=$WORK/run
expect_exit 0 "$SHADEGAN" submit tw.toml --run-dir "$RUN" --profile profile.toml
JOB=$(grep -Eo 'slow +job [0-9]+' <<<"$OUT" | grep -Eo '[0-9]+$')
[ -n "$JOB" ] || fail "no job id in: $OUT"
# run: the stage is queued on Slurm; running it here too would make two writers.
expect_exit 3 "$SHADEGAN" run tw.toml --run-dir "$RUN"
expect_out "slow.*job $JOB"
[ ! -e "$RUN/slow/out.txt" ] || fail "run ran the stage locally while job $JOB was queued"
# submit after a parameter change: the queued job would run the new configuration.
write_pipeline two
expect_exit 3 "$SHADEGAN" submit tw.toml --run-dir "$RUN" --profile profile.toml
expect_out "job $JOB"
expect_out "shadegan cancel"
[ "$(squeue -h -o %i --name=sg-tw-slow | wc -l)" -eq 1 ] || fail "a second job was queued: $(squeue)"
grep -q "one" "$RUN/run.toml" || fail "the refused submit rewrote the run's snapshot: $(cat "$RUN/run.toml")"
# After cancel both work again.
expect_exit 0 "$SHADEGAN" cancel "$RUN"
slurm_wait_job "$JOB" 60 || fail "job $JOB did not leave the queue"
expect_exit 0 "$SHADEGAN" run tw.toml --run-dir "$RUN" --dry-run
expect_out "slow +run"
echo "slurm_two_writers_test: ok"
