#!/usr/bin/env bash
# A stage two points agree on is computed once for them, not only a stage every point shares:
# 2 training seeds x 3 eval settings on the tiny training config trains twice (one copy per
# seed under _shared/train-<fingerprint>, each linked by its three points) and evaluates six
# times, each eval reading its own seed's checkpoint, and the gathered table holds all six. The
# dry run names the copies and the runs that share each. Counted from what ran (logs and checkpoints in real directories), not from
# the plan.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
{
  tiny_train_pipeline pw 'stop_step = 2' 'ckpt_every = 2' 'sample_every = 0' 'threads = 1'
  printf '[[stage]]\nname = "eval"\nkind = "eval"\nafter = ["train", "shard", "synth"]\nranks = 1\n'
  printf 'metrics = "learning"\nlearning_images = 4\nimg_size = 16\nnum_steps = 4\nsilhouette_size = 8\n'
} > base.toml
cat > pw.sweep.toml <<'TOML'
[sweep]
name = "pw"
pipeline = "base.toml"
[grid]
"train.seed" = [0, 1]
"eval.seed" = [0, 1, 2]
TOML
R="$WORK/runs/pw"
expect_exit 0 "$SHADEGAN" sweep pw.sweep.toml --dry-run --runs "$WORK/runs"
[ ! -e "$WORK/runs" ] || fail "--dry-run wrote something"
expect_out 'sweep pw: 6 runs'
expect_out 'shared stages: 4 copies, 4 to compute'
expect_out 'synth-[0-9a-f]{16} +by all 6 runs'
expect_out 'shard-[0-9a-f]{16} +by all 6 runs'
# Keys in sorted order: eval.seed varies slowest, so seed-0 of train is in points 1, 3 and 5.
train0=$(grep -Eo 'train-[0-9a-f]{16} +by 3 runs: seed-0_seed-0, seed-1_seed-0, seed-2_seed-0' <<<"$OUT" | cut -d' ' -f1) ||
  fail "the dry run does not list train seed 0's copy with its three runs: $OUT"
train1=$(grep -Eo 'train-[0-9a-f]{16} +by 3 runs: seed-0_seed-1, seed-1_seed-1, seed-2_seed-1' <<<"$OUT" | cut -d' ' -f1) ||
  fail "the dry run does not list train seed 1's copy with its three runs: $OUT"
[ "$train0" != "$train1" ] || fail "both seeds' trainings have one copy, $train0"
expect_out "seed-2_seed-1 .*shared: synth-[0-9a-f]{16} shard-[0-9a-f]{16} $train1\)"
expect_no_out 'eval-[0-9a-f]{16}'

expect_exit 0 "$SHADEGAN" sweep pw.sweep.toml --local --runs "$WORK/runs"
# What ran, counted in real directories (find does not follow the points' links): a stage that
# ran has its log where it ran, a training its checkpoint.
count() { find "$R" -path "$1" | wc -l; }
[ "$(count '*/logs/train.log')" -eq 2 ] || fail "training ran $(count '*/logs/train.log') times, not 2: $(find "$R" -path '*/logs/train.log')"
[ "$(count '*/train/LATEST')" -eq 2 ] || fail "$(count '*/train/LATEST') trainings left a checkpoint, not 2"
[ "$(count '*/logs/eval.log')" -eq 6 ] || fail "eval ran $(count '*/logs/eval.log') times, not 6"
[ "$(count '*/logs/shard.log')" -eq 1 ] || fail "shard ran $(count '*/logs/shard.log') times, not 1"
[ -e "$R/_shared/$train0/logs/train.log" ] && [ -e "$R/_shared/$train1/logs/train.log" ] ||
  fail "the trainings did not run in their copies: $(ls "$R/_shared")"
for t in 0 1; do
  copy=$train0; [ "$t" -eq 0 ] || copy=$train1
  for e in 0 1 2; do
    d="$R/seed-${e}_seed-$t"
    [ "$(readlink "$d/train")" = "../_shared/$copy/train" ] || fail "$d/train links '$(readlink "$d/train")', not its seed's copy $copy"
    [ -e "$d/logs/eval.log" ] || fail "$d did not run its own eval"
    # The learning measure's untrained generator is seeded with the checkpoint's training seed
    # (untrained_seed = -1): the seed the eval found in the checkpoint it read.
    /usr/bin/python3 - "$d/eval/metrics.json" "$t" "$e" "$R/_shared/$copy" <<'PY'
import json, os, sys
m = json.load(open(sys.argv[1]))
assert m["settings"]["learning"]["untrained"]["seed"] == int(sys.argv[2]), m["settings"]["learning"]
assert "learning_score" in m["metrics"], m["metrics"]
src = m["checkpoint"]["source"]
assert os.path.realpath(src).startswith(os.path.realpath(sys.argv[4]) + "/"), (src, sys.argv[4])
PY
  done
done
# The gathered table reads every point's own eval through the runs' directories.
/usr/bin/python3 - "$WORK/results/pw/table.json" <<'PY' || fail "the gathered table does not hold the six runs"
import json, sys
t = json.load(open(sys.argv[1]))
names = sorted(r["name"] for r in t["runs"])
assert names == sorted(f"seed-{e}_seed-{s}" for e in range(3) for s in range(2)), names
PY
expect_exit 0 "$SHADEGAN" status "$R/seed-1_seed-1"
expect_out '4 stages, 4 done'
# Again: nothing runs, and the dry run says every copy is done.
expect_exit 0 "$SHADEGAN" sweep pw.sweep.toml --local --runs "$WORK/runs"
[ "$(count '*/logs/train.log')" -eq 2 ] && [ "$(count '*/logs/eval.log')" -eq 6 ] || fail "a second sweep made new runs"
expect_exit 0 "$SHADEGAN" sweep pw.sweep.toml --dry-run --runs "$WORK/runs"
expect_out 'sweep pw: 6 runs .*\(0 with work to do, 0 stages\)'
expect_out 'shared stages: 4 copies, 0 to compute'
echo "sweep_pairwise_test: ok"
