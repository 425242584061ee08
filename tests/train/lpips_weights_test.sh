# The depth loss's LPIPS weights from the command line: a surface-tracking curriculum asking for
# "l1+lpips" without them is refused before anything starts (exit 2, naming the key, the
# curriculum, where it looked and how to provide them); "l1" trains; files in a (fake) torch
# cache are found by `shadegan info` and used by `train`, whose step-0 depth loss then exceeds
# the L1 term alone by the LPIPS term.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
TINY="$SG_SOURCE_DIR/tests/train/tiny.toml"
PY=/usr/bin/python3
export TORCH_HOME="$WORK/torch"
HUB="$TORCH_HOME/hub/checkpoints"
unset SG_INCEPTION_WEIGHTS

expect_exit 0 "$SHADEGAN" synth -o data/synth --count 16 --size 16
expect_exit 0 "$SHADEGAN" shard -o data/shard --synth data/synth --shard-size 8
newrun() { rm -rf "$1"; mkdir -p "$1"; cp -r data/synth data/shard "$1"/; }

# tiny.toml without its depth_loss line: the default, the reference's "l1+lpips".
grep -q '^depth_loss = "l1"' "$TINY" || fail "tiny.toml should say depth_loss = \"l1\""
sed '/^depth_loss/d' "$TINY" > lpips.toml
common=(--stop-step 1 --ckpt-every 1 --sample-every 0 --threads 1)

newrun refused
expect_exit 2 "$SHADEGAN" train --run-dir refused --curriculum lpips.toml "${common[@]}"
expect_out "lpips\.toml: depth_loss = \"l1\+lpips\""
expect_out "\(vgg16-397923af\.pth\): not found \(not named with --lpips-backbone, no $HUB/vgg16-397923af\.pth\)"
expect_out "\(vgg\.pth\): not found \(not named with --lpips-heads, no $HUB/vgg\.pth\)"
expect_out "--lpips-backbone FILE --lpips-heads FILE"
expect_out "set depth_loss = \"l1\""
[ ! -e refused/train ] || fail "a refused run wrote $(ls refused/train)"
# The same through --set, and a named file that does not exist.
newrun refused2
expect_exit 2 "$SHADEGAN" train --run-dir refused2 --curriculum "$TINY" --set depth_loss=l1+lpips "${common[@]}"
expect_out "depth_loss = \"l1\+lpips\""
expect_exit 2 "$SHADEGAN" train --run-dir refused2 --curriculum lpips.toml --lpips-backbone nowhere.pth \
  --lpips-heads nowhere2.pth "${common[@]}"
expect_out "lpips_backbone: '.*nowhere\.pth' does not exist"
[ ! -e refused2/train ] || fail "a refused run wrote $(ls refused2/train)"

# "l1" trains, and says which loss it trains.
newrun l1
expect_exit 0 "$SHADEGAN" train --run-dir l1 --curriculum "$TINY" "${common[@]}"
expect_out "depth_loss = \"l1\" in .*tiny\.toml: the depth loss is the L1 term only"
[ "$(cat l1/train/LATEST)" = step-0000001 ] || fail "l1: LATEST: $(cat l1/train/LATEST)"

# info: nothing in the cache yet; every file named with where it was looked for.
expect_exit 0 "$SHADEGAN" info
expect_out "weights cache +$HUB "
expect_out "FID Inception \(pt_inception-2015-12-05-6726825d\.pth\) +missing \(looked for $HUB/pt_inception-2015-12-05-6726825d\.pth, $HUB/weights-inception-2015-12-05-6726825d\.pth\)"
expect_out "LPIPS backbone \(vgg16-397923af\.pth\) +missing \(looked for $HUB/vgg16-397923af\.pth\)"
expect_out "LPIPS heads \(vgg\.pth\) +missing \(looked for $HUB/vgg\.pth\)"

# A fake cache: torchvision's and LPIPS's key layouts with small seeded values (a classifier
# key the loader must ignore), and an Inception file info only has to find.
mkdir -p "$HUB"
$PY - "$HUB" <<'PYEOF' || fail "could not write the fake LPIPS weights"
import sys, torch
hub = sys.argv[1]
g = torch.Generator().manual_seed(0)
convs = [(0, 64, 3), (2, 64, 64), (5, 128, 64), (7, 128, 128), (10, 256, 128), (12, 256, 256), (14, 256, 256),
         (17, 512, 256), (19, 512, 512), (21, 512, 512), (24, 512, 512), (26, 512, 512), (28, 512, 512)]
sd = {}
for n, o, i in convs:
    sd[f'features.{n}.weight'] = torch.randn(o, i, 3, 3, generator=g) * (2.0 / (9 * i)) ** 0.5
    sd[f'features.{n}.bias'] = torch.full((o,), 0.1)
sd['classifier.6.bias'] = torch.zeros(1000)
torch.save(sd, hub + '/vgg16-397923af.pth')
torch.save({f'lin{k}.model.1.weight': torch.rand(1, c, 1, 1, generator=g) * 0.1
            for k, c in enumerate([64, 128, 256, 512, 512])}, hub + '/vgg.pth')
open(hub + '/pt_inception-2015-12-05-6726825d.pth', 'wb').write(b'not read by info')
PYEOF

expect_exit 0 "$SHADEGAN" info
expect_out "FID Inception \(pt_inception-2015-12-05-6726825d\.pth\) +found: $HUB/pt_inception-2015-12-05-6726825d\.pth \(torch hub cache\)"
expect_out "LPIPS backbone \(vgg16-397923af\.pth\) +found: $HUB/vgg16-397923af\.pth"
expect_out "LPIPS heads \(vgg\.pth\) +found: $HUB/vgg\.pth"
# SG_INCEPTION_WEIGHTS wins over the cache, and a wrong one is reported as such.
SG_INCEPTION_WEIGHTS="$WORK/elsewhere.pth" expect_exit 0 "$SHADEGAN" info --json
grep -q '"looked_in"' <<<"$OUT" || fail "info --json lacks looked_in: $OUT"
grep -q "elsewhere.pth (from SG_INCEPTION_WEIGHTS, not a file)" <<<"$OUT" || fail "info --json: $OUT"

# "l1+lpips" now finds both halves in the cache and trains; LPIPS adds to the step-0 depth loss
# (the same seed draws the same step 0: LPIPS draws nothing).
newrun lpips
expect_exit 0 "$SHADEGAN" train --run-dir lpips --curriculum lpips.toml "${common[@]}"
expect_out "depth loss = L1 \+ LPIPS-VGG \($HUB/vgg16-397923af\.pth, $HUB/vgg\.pth\)"
$PY - l1/train/logs/metrics.jsonl lpips/train/logs/metrics.jsonl <<'PYEOF' || fail "LPIPS did not enter the depth loss"
import json, math, sys
l1, lp = (json.loads(open(p).readline()) for p in sys.argv[1:])
assert l1['step'] == lp['step'] == 0, (l1, lp)
assert math.isfinite(lp['depth_loss']) and math.isfinite(lp['g_loss']), lp
assert lp['depth_loss'] > l1['depth_loss'] + 1e-6, (l1['depth_loss'], lp['depth_loss'])
PYEOF
# Named files win over the cache; the combined single file and the pair exclude each other.
newrun named
expect_exit 2 "$SHADEGAN" train --run-dir named --curriculum lpips.toml --lpips-weights "$HUB/vgg.pth" \
  --lpips-heads "$HUB/vgg.pth" "${common[@]}"
expect_out "exclude each other"
expect_exit 2 "$SHADEGAN" train --run-dir named --curriculum lpips.toml --lpips-weights "$HUB/vgg.pth" "${common[@]}"
expect_out "not LPIPS-VGG weights"
expect_out "features\.0\.weight: missing"
