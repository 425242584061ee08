#!/usr/bin/env bash
# `shadegan submit jobs/demo.toml --dry-run` prints the dependency plan and one script per stage
# (whatever kinds the demo holds), asks no scheduler and writes nothing. No Slurm needed.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
mkdir -p bin
printf '#!/bin/sh\necho called >> "%s/calls"\nexit 1\n' "$WORK" > bin/sbatch
cp bin/sbatch bin/squeue; cp bin/sbatch bin/scontrol
chmod +x bin/*
PATH="$WORK/bin:$PATH" expect_exit 0 "$SHADEGAN" submit "$SG_SOURCE_DIR/jobs/demo.toml" --dry-run \
  --run-dir "$WORK/r" --profile "$SG_SOURCE_DIR/slurm/local.toml"
expect_out 'demo: would submit [0-9]+ job'
expect_out 'shard +job <shard> after <synth>'
expect_out "# ---- synth: 'sbatch' '--parsable' "
expect_out "SG_STAGE='shard'"
expect_out "--dependency=afterok:<synth>"
# A dependent job is killed when its dependency fails, instead of pending forever on clusters
# without DependencyParameters=kill_invalid_depend; a job without dependencies is not told so.
expect_out "'--dependency=afterok:<synth>' '--kill-on-invalid-dep=yes'"
grep -- "^# ---- synth:" <<<"$OUT" | grep -q -- "--kill-on-invalid-dep" && fail "synth depends on nothing but got --kill-on-invalid-dep"
[ ! -e "$WORK/r" ] || fail "--dry-run created the run directory"
# A '%' in the run directory is literal in --output (Slurm would expand %d, %j, ... there).
PATH="$WORK/bin:$PATH" expect_exit 0 "$SHADEGAN" submit "$SG_SOURCE_DIR/jobs/demo.toml" --dry-run \
  --run-dir "$WORK/100%done" --profile "$SG_SOURCE_DIR/slurm/local.toml"
expect_out "'--output=$WORK/100%%done/logs/slurm/shard-%j.out'"
[ ! -e "$WORK/calls" ] || fail "--dry-run called the scheduler"
# array_throttle = N caps every array at N running tasks ('%N'); 0 or text is refused by name.
{ pipeline_header fan; command_stage fan 'true' 'tasks = 5'; command_stage join 'true' 'after = ["fan"]'; } > fan.toml
sed 's/^partition = .*/&\narray_throttle = 2/' "$SG_SOURCE_DIR/slurm/local.toml" > throttle.toml
sed -i "s|^\[slurm\]|&\ntemplate = \"$SG_SOURCE_DIR/slurm/job.sh.tmpl\"|" throttle.toml
PATH="$WORK/bin:$PATH" expect_exit 0 "$SHADEGAN" submit fan.toml --dry-run --run-dir "$WORK/f" --profile throttle.toml
expect_out "'--array=0-4%2'"
expect_out "'--dependency=afterok:<fan>' '--kill-on-invalid-dep=yes'"
sed -i 's/^array_throttle = 2/array_throttle = 0/' throttle.toml
PATH="$WORK/bin:$PATH" expect_exit 2 "$SHADEGAN" submit fan.toml --dry-run --run-dir "$WORK/f" --profile throttle.toml
expect_out "throttle.toml:[0-9]+.*array_throttle.*>= 1"
# A profile with an unknown key names it.
printf '[slurm]\npartiton = "x"\n' > bad.toml
expect_exit 2 "$SHADEGAN" submit "$SG_SOURCE_DIR/jobs/demo.toml" --dry-run --profile bad.toml
expect_out "bad.toml:2.*partiton"
echo "submit_dry_run_test: ok"
