# A run stopped inside a later curriculum stage and resumed ends with the same training state as
# one that never stopped, bit for bit: weights, EMAs, both optimizers (same_training_state), and
# every step's losses and gradient norms. tiny.toml switches from 8 px (batch 4) to 16 px
# (batch 2) at step 6 and ends at 40; stopped at 8, resumed to the end, with the defaults (oneDNN
# convolutions on). Ending at 40 rather than a step or two after the resume matters: before the
# checkpoint kept which parameters hold a zeroed gradient (train/checkpoint.cpp), the optimizer
# state differed from the resume on and the losses from step 16, which this test caught.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
TINY="$SG_SOURCE_DIR/tests/train/tiny.toml"
expect_exit 0 "$SHADEGAN" synth -o d/synth --count 16 --size 16
expect_exit 0 "$SHADEGAN" shard -o d/shard --synth d/synth --shard-size 8
for r in once twice; do mkdir -p $r && ln -s ../d/synth $r/synth && ln -s ../d/shard $r/shard; done
train() {  # RUN [ARG...]
  expect_exit 0 "$SHADEGAN" train --run-dir "$1" --curriculum "$TINY" --ckpt-every 4 --sample-every 0 --threads 1 \
    "${@:2}"
}
train once
train twice --stop-step 8
expect_out "stopping at 8"
train twice
expect_out "resuming from .*step-0000008"
same_training_state once/train/ckpt/step-0000040 twice/train/ckpt/step-0000040
/usr/bin/python3 - once/train/logs/metrics.jsonl twice/train/logs/metrics.jsonl <<'PY' || fail "losses differ"
import json, sys
def losses(p):
    keys = ('d_loss', 'g_loss', 'depth_loss', 'r1', 'd_grad_norm', 'g_grad_norm')
    return {j['step']: tuple(j[k] for k in keys) for j in map(json.loads, open(p))}
a, b = losses(sys.argv[1]), losses(sys.argv[2])
assert sorted(a) == list(range(40)) and sorted(b) == list(range(40)), (sorted(a), sorted(b))
bad = [s for s in a if a[s] != b[s]]
assert not bad, f"first differing step {bad[0]}: {a[bad[0]]} vs {b[bad[0]]}"
PY
echo ok
