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
[ ! -e "$WORK/r" ] || fail "--dry-run created the run directory"
# A '%' in the run directory is literal in --output (Slurm would expand %d, %j, ... there).
PATH="$WORK/bin:$PATH" expect_exit 0 "$SHADEGAN" submit "$SG_SOURCE_DIR/jobs/demo.toml" --dry-run \
  --run-dir "$WORK/100%done" --profile "$SG_SOURCE_DIR/slurm/local.toml"
expect_out "'--output=$WORK/100%%done/logs/slurm/shard-%j.out'"
[ ! -e "$WORK/calls" ] || fail "--dry-run called the scheduler"
# A profile with an unknown key names it.
printf '[slurm]\npartiton = "x"\n' > bad.toml
expect_exit 2 "$SHADEGAN" submit "$SG_SOURCE_DIR/jobs/demo.toml" --dry-run --profile bad.toml
expect_out "bad.toml:2.*partiton"
echo "submit_dry_run_test: ok"
