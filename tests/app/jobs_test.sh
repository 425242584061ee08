# Every job file in jobs/ plans: each pipeline (*.toml) with `run --dry-run`, each sweep
# (*.sweep.toml) with `sweep --dry-run`, and the example sweep's curriculum overrides resolve
# (a dry run plans stages but does not resolve a curriculum key, which only the trainer reads).
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
n=0
for f in "$SG_SOURCE_DIR"/jobs/*.toml; do
  case "$f" in
    *.sweep.toml)
      expect_exit 0 "$SHADEGAN" sweep "$f" --dry-run --runs "runs"
      expect_out "runs under" ;;
    *)
      expect_exit 0 "$SHADEGAN" run "$f" --dry-run --run-dir "runs/$(basename "$f" .toml)"
      expect_out "would run" ;;
  esac
  n=$((n + 1))
done
[ "$n" -ge 3 ] || fail "expected the demo, the shape comparison and the example sweep in jobs/, found $n files"
[ ! -e runs ] || fail "a dry run wrote $(find runs | head -3)"
# The example sweep: 2 seeds x 2 learning rates, 4 runs; synth and shard shared (nothing varied
# reaches them); each learning rate is a valid override of the demo's curriculum.
expect_exit 0 "$SHADEGAN" sweep "$SG_SOURCE_DIR/jobs/demo_seeds.sweep.toml" --dry-run --runs runs
expect_out "4 runs under"
expect_out "synth-[0-9a-f]{16} +by all 4 runs"
expect_out "shard-[0-9a-f]{16} +by all 4 runs"
expect_no_out "train-[0-9a-f]{16}"
for lr in 0.0001 0.0002; do expect_out "train.curriculum.stages.0.gen_lr=$lr train.seed=1"; done
for lr in 0.0001 0.0002; do
  expect_exit 0 "$SHADEGAN" config show "$SG_SOURCE_DIR/configs/demo.toml" --step 10 --set "stages.0.gen_lr=$lr"
  expect_out "gen_lr +$lr"
done
echo ok
