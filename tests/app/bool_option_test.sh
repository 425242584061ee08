#!/usr/bin/env bash
# Boolean options given a value (train's --fix-unique-lr) accept exactly true/false/yes/no/1/0,
# with their meaning, and refuse anything else (exit 2 naming the option) before any work;
# integer options refuse trailing garbage.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
TINY="$SG_SOURCE_DIR/tests/train/tiny.toml"
expect_exit 0 "$SHADEGAN" synth -o r/synth --count 8 --size 16
expect_exit 0 "$SHADEGAN" shard -o r/shard --synth r/synth --shard-size 8
# A light prior that does not exist stops training right after the learning-rate policy is
# logged, so the meaning of the value shows without training a step.
for v in yes YES true 1; do
  set +e; OUT=$("$SHADEGAN" train --run-dir r --curriculum "$TINY" --threads 1 --light-prior /nonexistent.toml --fix-unique-lr "$v" 2>&1); set -e
  expect_out "unique_lr fixed"
done
for v in no false 0; do
  set +e; OUT=$("$SHADEGAN" train --run-dir r --curriculum "$TINY" --threads 1 --light-prior /nonexistent.toml --fix-unique-lr "$v" 2>&1); set -e
  expect_out "unique_lr as the reference behaves"
done
for v in maybe 2 y on ""x; do
  expect_exit 2 "$SHADEGAN" train --run-dir r --curriculum "$TINY" --threads 1 --fix-unique-lr "$v"
  expect_out "--fix-unique-lr: expected true/false/yes/no/1/0, got '$v'"
done
expect_exit 2 "$SHADEGAN" train --run-dir r --curriculum "$TINY" --threads 1 --stop-step 5x
expect_out "--stop-step: expected a number, got '5x'"
[ ! -e r/train/ckpt/step-0000001 ] || fail "a refused option still trained"
echo "bool_option_test: ok"
