# jobs/demo.toml (synth -> shard -> train on 2 ranks -> render, extract, eval -> table, publish)
# through `shadegan run`, shrunk with --set (training stops at step 2, tiny images and grids):
# the shard stage picks up the synth stage's dataset, training leaves a checkpoint and samples,
# render/extract/eval use that checkpoint, the table gathers eval's metrics, what people look at
# lands in results/demo, and a second run has nothing to do.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
SHRINK=(--set synth.count=20 --set synth.size=32 --set shard.shard_size=8
        --set train.stop_step=2 --set train.ckpt_every=2 --set train.sample_every=2
        --set render.image_size=16 --set extract.voxel_resolution=24
        --set eval.img_size=16 --set eval.num_images=8 --set eval.real_images=8
        --set eval.shape_images=2 --set eval.shape_steps=2 --set eval.shape_img_size=16
        --set eval.learning_images=8)
expect_exit 0 "$SHADEGAN" run "$SG_SOURCE_DIR/jobs/demo.toml" --run-dir demo "${SHRINK[@]}"
[ -s demo/synth/light_prior.pth ] || fail "synth stage did not write the prior"
/usr/bin/python3 -c "
import json; m = json.load(open('demo/shard/manifest.json'))
assert m['count'] == 20 and m['store_size'] == 32 and m['source_kind'] == 'synth' and len(m['shards']) == 3, m
" || fail "demo shard manifest is wrong"
# The publish stage copies the preview grid (and the manifest) to results/ beside runs/.
head -c 8 demo/publish/synth_preview.png | od -An -c | grep -q 'P   N   G' || fail "publish: no PNG preview"
cmp demo/publish/synth_preview.png demo/../../results/demo/synth_preview.png || fail "preview not under results/demo"
# Training stopped at step 2 with a trusted checkpoint named by LATEST, and its pictures published.
[ "$(cat demo/train/LATEST)" = step-0000002 ] || fail "train: LATEST is '$(cat demo/train/LATEST)', expected step-0000002"
[ -s demo/train/ckpt/step-0000002/generator.pth ] && [ -s demo/train/ckpt/step-0000002/meta.json ] || fail "train: checkpoint incomplete"
cmp demo/train/samples/latest.png demo/../../results/demo/train_samples.png || fail "samples not under results/demo"
head -c 8 demo/publish/train_loss_curve.png | od -An -c | grep -q 'P   N   G' || fail "publish: no loss curve"
# Render: seed 0's contact sheet and rotation GIF, from the checkpoint at step 2.
R=demo/../../results/demo
head -c 8 $R/render_sheet.png | od -An -c | grep -q 'P   N   G' || fail "render: no contact sheet under results/demo"
[ "$(head -c 6 $R/render_rotation.gif)" = GIF89a ] || fail "render: no GIF under results/demo"
[ -s demo/render/seed00001/sheet.png ] || fail "render: seed 1 has no contact sheet"
# Extract: both seeds' meshes are binary PLY files whose header parses, with faces (the demo's
# relative_threshold meshes even a 2-step generator), and the .mrc grids.
for s in 0 1; do
  /usr/bin/python3 - "$R/mesh_seed$s.ply" <<'PY' || fail "extract: mesh_seed$s.ply does not parse"
import sys
f = open(sys.argv[1], 'rb'); head = b''
while not head.endswith(b'end_header\n'): head += f.readline()
lines = head.decode().split('\n')
assert lines[0] == 'ply' and lines[1] == 'format binary_little_endian 1.0', lines[:2]
counts = {l.split()[1]: int(l.split()[2]) for l in lines if l.startswith('element')}
assert set(counts) == {'vertex', 'face'}, counts
assert counts['face'] > 0, counts  # the demo meshes at half the largest density: never empty
PY
  [ -s demo/extract/seed0000$s.mrc ] || fail "extract: no density grid for seed $s"
  /usr/bin/python3 -c "import json,sys; r = json.load(open(sys.argv[1])); assert r['kept'] == 'largest piece' and r['pieces'] >= 1, r" \
    demo/extract/seed0000$s.json || fail "extract: the demo keeps the largest piece"
done
# Eval and table: shape accuracy against the synthetic truth is a finite number in metrics.json,
# and the table (CSV, Markdown, JSON, HTML) under results/demo has the run's row with it.
/usr/bin/python3 - demo/eval/metrics.json $R/table.json $R/table.csv <<'PY' || fail "eval/table: wrong metrics"
import csv, json, math, sys
m = json.load(open(sys.argv[1]))
metrics = m.get('metrics', m)
for k in ('depth_sie', 'normal_angle_deg'):
    assert math.isfinite(metrics[k]), (k, metrics)
assert 0 <= metrics['normal_angle_deg'] <= 180, metrics
t = json.load(open(sys.argv[2]))
rows = list(csv.DictReader(open(sys.argv[3])))
assert len(rows) == 1, rows
assert abs(float(rows[0]['normal_angle_deg'].split()[0]) - metrics['normal_angle_deg']) < 1e-3, (rows, metrics)
# The learning measure: its distances and score, with the untrained and real-vs-real references
# (the score's 0 and 1) in metrics.json and the table.
for k in ('kid_random_features', 'silhouette_kid', 'silhouette_iou', 'learning_score'):
    assert math.isfinite(metrics[k]), (k, metrics)
    assert abs(float(rows[0][k]) - metrics[k]) < 1e-9 * max(1, abs(metrics[k])), (k, rows, metrics)
refs = m['reference_points']
assert set(refs) == {'untrained', 'real_vs_real', 'flat_plane'}, refs
# The shape metrics' floor: each held-out image's best flat plane, from its own ground truth.
for k in ('normal_angle_deg', 'normal_angle_depth_deg', 'depth_sie'):
    assert math.isfinite(refs['flat_plane'][k]), refs
assert 0 < refs['flat_plane']['normal_angle_deg'] < 90, refs
assert m['settings']['learning']['untrained']['seed'] == 0, m['settings']['learning']
assert t['runs'][0]['reference_points']['untrained']['silhouette_kid'] == refs['untrained']['silhouette_kid'], t['runs'][0]
PY
grep -q '<table' $R/table.html || fail "table: no HTML table"
grep -q 'normal_angle_deg' $R/table.md || fail "table: Markdown lacks the shape metric"
grep -q 'learning_score' $R/table.md && grep -q 'real vs real (100%)' $R/table.md || fail "table: Markdown lacks the learning measure or its references"
expect_exit 0 "$SHADEGAN" run "$SG_SOURCE_DIR/jobs/demo.toml" --run-dir demo "${SHRINK[@]}"
expect_out "nothing to do"
# weights = "untrained": the generator training started from, in the trained one's place. It is
# the learning measure's own 0%, so every distance equals the untrained reference's and the
# score is 0.
expect_exit 0 "$SHADEGAN" eval --checkpoint demo/train --weights untrained --shards demo/shard --synth demo/synth \
  --metrics learning --img-size 16 --learning-images 8 --out untrained
/usr/bin/python3 - untrained/metrics.json <<'PY' || fail "eval --weights untrained: wrong metrics"
import json, sys
m = json.load(open(sys.argv[1]))
assert m['checkpoint']['weights'] == 'untrained', m['checkpoint']
assert 'untrained' in m['checkpoint']['source'], m['checkpoint']
u = m['reference_points']['untrained']
for k in ('kid_random_features', 'silhouette_kid'):
    assert m['metrics'][k] == u[k], (k, m['metrics'][k], u[k])
assert m['metrics']['learning_score'] == 0, m['metrics']
PY
expect_exit 2 "$SHADEGAN" eval --checkpoint demo/train --weights fresh --shards demo/shard --out bad
expect_out "weights.*untrained"
echo ok
