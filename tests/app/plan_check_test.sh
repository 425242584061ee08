#!/usr/bin/env bash
# Planning checks each stage's parameters beyond their types (graph::check_params, the kinds'
# `check`; train, synth and eval have one): a train stage whose curriculum does not load or whose override names no key fails
# `run`, `submit` and `sweep` at once, dry runs included, with exit 2 naming the pipeline's
# file:line, the stage and the key, before synth and shard run or anything is queued.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
tiny_train_pipeline plan 'set = ["stages.0.gen_lrr=1e-4"]' > bad_set.toml
line=$(grep -n '^name = "train"' bad_set.toml | cut -d: -f1)
expect_exit 2 "$SHADEGAN" run bad_set.toml --run-dir "$WORK/r1" --dry-run
expect_out "bad_set.toml:$line: train: .*stages.0.gen_lrr.*unknown key 'gen_lrr' \(did you mean 'gen_lr'\?\)"
expect_exit 2 "$SHADEGAN" run bad_set.toml --run-dir "$WORK/r1"
expect_out "bad_set.toml:$line: train: "
[ ! -e "$WORK/r1" ] || fail "a run with a bad train stage created its run directory (synth or shard ran)"
expect_exit 2 "$SHADEGAN" submit bad_set.toml --run-dir "$WORK/r2" --dry-run --profile "$SG_SOURCE_DIR/slurm/local.toml"
expect_out "bad_set.toml:$line: train: .*gen_lrr"
# A curriculum that is not there.
sed "s|^curriculum = .*|curriculum = \"$WORK/missing.toml\"|" bad_set.toml | grep -v '^set = ' > no_cur.toml
expect_exit 2 "$SHADEGAN" run no_cur.toml --run-dir "$WORK/r3" --dry-run
expect_out "no_cur.toml:$line: train: cannot read curriculum '$WORK/missing.toml'"
# A train option out of range, caught the same way.
tiny_train_pipeline plan 'keep = 0' > keep.toml
expect_exit 2 "$SHADEGAN" run keep.toml --run-dir "$WORK/r4" --dry-run
expect_out "keep.toml:$line: train: train: keep must be >= 1"
# A sweep over the override's value: the bad point is named before any point runs.
tiny_train_pipeline plan > good.toml
expect_exit 0 "$SHADEGAN" run good.toml --run-dir "$WORK/r5" --dry-run
printf '[sweep]\nname = "s"\npipeline = "good.toml"\ngather = false\n[grid]\n"train.set" = [["stages.0.gen_lr=1e-4"], ["stages.0.gen_lrr=1e-4"]]\n' > sweep.toml
expect_exit 2 "$SHADEGAN" sweep sweep.toml --runs "$WORK/runs" --dry-run
expect_out "train: .*unknown key 'gen_lrr'"
[ ! -e "$WORK/runs/s" ] || fail "a sweep with a bad point created its runs"
# The synth and eval kinds check their parameters the same way.
{ printf '[pipeline]\nname = "p"\n[[stage]]\nname = "synth"\nkind = "synth"\ncount = 0\nsize = 16\n'
  printf '[[stage]]\nname = "eval"\nkind = "eval"\nafter = ["synth"]\nshape_normals = "bogus"\n'; } > kinds.toml
expect_exit 2 "$SHADEGAN" run kinds.toml --run-dir "$WORK/r6" --dry-run
expect_out "kinds.toml:[0-9]+: synth: .*count must be >= 1"
sed -i 's/^count = 0/count = 16/' kinds.toml
expect_exit 2 "$SHADEGAN" run kinds.toml --run-dir "$WORK/r6" --dry-run
expect_out "kinds.toml:[0-9]+: eval: shape_normals: unknown value 'bogus'; valid: trained, density, depth, every:K"
echo "plan_check_test: ok"
