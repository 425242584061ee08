#!/usr/bin/env bash
# eval checks its parameters before reading the checkpoint or generating an image: each bad
# value is exit 2 naming the parameter and the allowed range. (The checkpoint and shards named
# here do not exist: a check made after loading or generating would report them instead.)
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
E=("$SHADEGAN" eval -o out --checkpoint "$WORK/none" --shards "$WORK/none")
check() {
  local want=$1; shift
  expect_exit 2 "${E[@]}" "$@"
  expect_out "$want"
  [ ! -e out/metrics.json ] || fail "eval wrote metrics.json with $*"
}
check "is_splits: expected an integer in \[1, 8\] \(at most num_images\), got 20" --metrics is --num-images 8 --is-splits 20
check "kid_subsets: expected an integer in \[1, " --kid-subsets 0
check "kid_subset_size: expected an integer in \[2, " --kid-subset-size 1
check "jpeg_quality: expected an integer in \[1, 100\], got 500" --jpeg-quality 500
check "img_size: expected an integer in \[4, 1024\], got 100000" --img-size 100000
check "num_images: expected an integer in \[2, " --num-images 1
check "shape_lr: expected a number > 0, got 0" --shape-lr 0
check "shape_normals: unknown value 'every:0'; valid: trained, density, depth, every:K" --shape-normals every:0
check "shape_normals: unknown value 'normal'; valid: trained, density, depth, every:K" --shape-normals normal
check "batch_size: expected an integer in \[1, 4096\], got 0" --batch-size 0
# Valid parameters get as far as the missing checkpoint.
expect_exit 1 "${E[@]}" --metrics shape
expect_out "none"
echo "eval_params_test: ok"
