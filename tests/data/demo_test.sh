# jobs/demo.toml (synth -> shard -> train on 2 ranks -> publish) through `shadegan run`, shrunk
# with --set (training stops at step 2): the shard stage picks up the synth stage's dataset,
# training leaves a checkpoint and samples, and a second run has nothing to do.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
expect_exit 0 "$SHADEGAN" run "$SG_SOURCE_DIR/jobs/demo.toml" --run-dir demo \
  --set synth.count=20 --set synth.size=32 --set shard.shard_size=8 --set train.stop_step=2 --set train.ckpt_every=2 --set train.sample_every=2
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
expect_exit 0 "$SHADEGAN" run "$SG_SOURCE_DIR/jobs/demo.toml" --run-dir demo \
  --set synth.count=20 --set synth.size=32 --set shard.shard_size=8 --set train.stop_step=2 --set train.ckpt_every=2 --set train.sample_every=2
expect_out "nothing to do"
echo ok
