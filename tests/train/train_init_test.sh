#!/usr/bin/env bash
# train --init checks the EMA shadows beside the generator against the model before copying
# them: an ema.pth of another width is an error naming the tensor and both shapes (never a
# LibTorch copy error with its C++ backtrace, nor a silent broadcast).
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
TINY="$SG_SOURCE_DIR/tests/train/tiny.toml"
expect_exit 0 "$SHADEGAN" synth -o a/synth --count 8 --size 16
expect_exit 0 "$SHADEGAN" shard -o a/shard --synth a/synth --shard-size 8
cp -r a b
cp -r a c
T=(--curriculum "$TINY" --stop-step 1 --ckpt-every 1 --sample-every 0 --threads 1)
expect_exit 0 "$SHADEGAN" train --run-dir a "${T[@]}"
expect_exit 0 "$SHADEGAN" train --run-dir b "${T[@]}" --set mapping_hidden_dim=8
mkdir init
cp a/train/ckpt/step-0000001/generator.pth init/generator.pth
cp b/train/ckpt/step-0000001/ema.pth init/ema.pth   # the mapping network is 8 wide there, 16 here
expect_exit 1 "$SHADEGAN" train --run-dir c "${T[@]}" --init init/generator.pth
expect_out "init/ema.pth.*EMA shadows do not match the model"
expect_out "mapping_network[^ ]*: file \(8, 256\) vs model \(16, 256\)"
expect_no_out "frame #|Exception raised from"
[ ! -e c/train/ckpt/step-0000001 ] || fail "training went on with mismatched EMA shadows"
# The matching pair initialises both.
cp a/train/ckpt/step-0000001/ema.pth init/ema.pth
expect_exit 0 "$SHADEGAN" train --run-dir c "${T[@]}" --init init/generator.pth
expect_out "EMA from .*init/ema.pth"
echo "train_init_test: ok"
