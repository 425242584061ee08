# shadegan train on 1 and 2 ranks (tiny.toml), the exported weights in Python, and the train
# stage kind through `shadegan run` (synth -> shard -> train), rerun with nothing to do.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
TINY="$SG_SOURCE_DIR/tests/train/tiny.toml"
PY=/usr/bin/python3

expect_exit 0 "$SHADEGAN" synth -o r1/synth --count 24 --size 16
expect_exit 0 "$SHADEGAN" shard -o r1/shard --synth r1/synth --shard-size 12
cp -r r1 r2

# 1 rank, crossing the 8 -> 16 px stage at step 6.
expect_exit 0 "$SHADEGAN" train --run-dir r1 --curriculum "$TINY" --stop-step 7 --ckpt-every 3 \
  --sample-every 3 --sample-size 16 --threads 1
expect_out "1 rank\(s\) x 1 thread"
expect_out "light prior from .*r1/synth/light_prior.pth"
expect_out "depth loss is the L1 term only"
expect_out "train 7/7 16 px"
[ "$(cat r1/train/LATEST)" = step-0000007 ] || fail "LATEST: $(cat r1/train/LATEST)"
for f in samples/step-0000003.png samples/step-0000006.png samples/latest.png loss_curve.png logs/metrics.jsonl; do
  [ -s "r1/train/$f" ] || fail "missing r1/train/$f"
done
[ "$(wc -l < r1/train/logs/metrics.jsonl)" -eq 7 ] || fail "expected 7 metrics lines"

# 2 ranks: the same flags; every loss finite, D and G stepped every time.
expect_exit 0 mpirun -np 2 "$SHADEGAN" train --run-dir r2 --curriculum "$TINY" --stop-step 4 --ckpt-every 2 \
  --sample-every 2 --sample-size 16
expect_out "2 rank\(s\) x 1 thread"
[ "$(cat r2/train/LATEST)" = step-0000004 ] || fail "2 ranks: LATEST: $(cat r2/train/LATEST)"
[ -s r2/train/ckpt/step-0000004/rng-rank1.bin ] || fail "2 ranks: rank 1's random stream not saved"
$PY - r2/train/logs/metrics.jsonl <<'PYEOF' || fail "2-rank metrics"
import json, math, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r['step'] for r in rows] == [0, 1, 2, 3], rows
for r in rows:
    for k in ('d_loss', 'g_loss', 'depth_loss', 'r1'):
        assert isinstance(r[k], float) and math.isfinite(r[k]), (k, r)
    assert r['d_stepped'] and r['g_stepped'], r
PYEOF

# The exported generator, discriminator and EMA load in Python with the reference's layout.
$PY - r1/train/ckpt/step-0000007 <<'PYEOF' || fail "python could not use the exported weights"
import sys, torch
d = sys.argv[1]
g = torch.load(d + '/generator.pth', map_location='cpu')
keys = list(g)
assert keys[0] == 'siren.network.0.layer.weight', keys[:3]
assert keys[16:18] == ['siren.final_layer.weight', 'siren.final_layer.bias'], keys[16:18]
assert g['siren.color_layer_sine.layer.weight'].shape == (16, 16 + 3 + 4), g['siren.color_layer_sine.layer.weight'].shape
assert g['siren.mapping_network.network.6.weight'].shape == (18 * 16, 16)
assert g['surfacenet.linear.weight'].shape == (8 * 8, 18 * 16), g['surfacenet.linear.weight'].shape  # nf 8 * 8
assert keys[-1].startswith('surfacenet.network.'), keys[-1]
assert all(torch.isfinite(t).all() for t in g.values())
disc = torch.load(d + '/discriminator.pth', map_location='cpu')
assert list(disc)[0] == 'layers.0.network.0.conv.weight' and list(disc)[-1] == 'final_layer.bias'
assert disc['final_layer.weight'].shape == (259, 400, 2, 2)
e = torch.load(d + '/ema.pth', map_location='cpu')
assert e['decay'] == 0.999 and e['num_updates'] == 7, (e['decay'], e['num_updates'])
assert len(e['shadow_params']) == len(keys)
assert all(s.shape == g[k].shape for s, k in zip(e['shadow_params'], keys))
PYEOF

# The train kind in a pipeline, then a rerun has nothing to do.
tiny_train_pipeline tiny 'stop_step = 3' 'ckpt_every = 2' 'sample_every = 3' 'sample_size = 16' > pipe.toml
expect_exit 0 "$SHADEGAN" run pipe.toml --run-dir run
[ "$(cat run/train/LATEST)" = step-0000003 ] || fail "pipeline: LATEST"
[ -s run/train/samples/latest.png ] || fail "pipeline: no samples"
# The local executor starts the ranks unbound (mpirun --bind-to none): they divide the CPUs they
# share, where Open MPI's default bound each to one core whatever the machine had.
if [ "$(nproc)" -ge 2 ]; then
  grep -q "CPUs allowed (affinity) / 2 ranks sharing them" run/logs/train.log ||
    fail "the ranks did not share the machine's CPUs: $(grep 'thread(s)' run/logs/train.log)"
fi
expect_exit 0 "$SHADEGAN" run pipe.toml --run-dir run
expect_out "nothing to do"

# --sample-steps draws the sample grid with more samples per ray than training uses: the grid
# differs, the training does not (same weights after the step); out of range is refused by name.
for d in s1 s2; do mkdir -p $d && cp -r r1/synth r1/shard $d/; done
expect_exit 0 "$SHADEGAN" train --run-dir s1 --curriculum "$TINY" --stop-step 1 --sample-every 1 --sample-size 16 --threads 1
expect_exit 0 "$SHADEGAN" train --run-dir s2 --curriculum "$TINY" --stop-step 1 --sample-every 1 --sample-size 16 --threads 1 \
  --sample-steps 24
cmp -s s1/train/ckpt/step-0000001/generator.pth s2/train/ckpt/step-0000001/generator.pth || fail "--sample-steps changed training"
cmp -s s1/train/samples/latest.png s2/train/samples/latest.png && fail "--sample-steps 24 drew the same grid as training's samples"
expect_exit 2 "$SHADEGAN" train --run-dir s2 --curriculum "$TINY" --sample-steps 1
expect_out "sample_steps must be 0 \(training's\) or in \[2, 1024\]"
echo ok
