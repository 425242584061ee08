# Hostile data from the command line (issue 21, items 2 and 3): a JPEG whose header claims
# 65500x65500 and a file whose name is not UTF-8 are skipped (too_large, escaped name) while the
# rest is sharded on 2 ranks; a shard replaced by one of another size or type (crafted with
# plain h5py) stops training with an error naming the shard, the dataset and both shapes.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
PY=/usr/bin/python3

expect_exit 0 "$SHADEGAN" synth --out syn --count 6 --size 32 --seed 3 --images jpg
mkdir folder
cp syn/images/00000[0-5].jpg folder/
# The first image's SOF0 header patched to claim 65500x65500 (the rest of the file unchanged).
$PY - <<'PY' || fail "could not craft the 65500x65500 JPEG"
b = bytearray(open("folder/000000.jpg", "rb").read())
i = b.index(b"\xff\xc0")
b[i + 5:i + 9] = (65500).to_bytes(2, "big") * 2
open("folder/000000.jpg", "wb").write(bytes(b))
PY
printf 'not an image' > "folder/bad_$(printf '\xff\xfe')_name.jpg"
cat > r32.toml <<'T'
name = "synth32"
pattern = "*.jpg"
[[step]]
op = "center_crop"
size = 32
T
expect_exit 0 mpirun -np 2 "$SHADEGAN" shard --source folder --recipe r32.toml --out shards --shard-size 2
expect_out "000000.jpg: too_large"
$PY - <<'PY' || fail "the manifest does not list the two skips as expected, or h5py cannot read the shards"
import h5py, json, numpy as np
m = json.load(open("shards/manifest.json"))
assert m["count"] == 5, m["count"]
assert m["skipped_counts"] == {"too_large": 1, "not_an_image": 1}, m["skipped_counts"]
files = {s["file"]: s["reason"] for s in m["skipped"]}
assert files == {"000000.jpg": "too_large", "bad_\\xFF\\xFE_name.jpg": "not_an_image"}, files
n = 0
for s in m["shards"]:
    with h5py.File("shards/" + s["file"], "r") as f:
        assert f["images"].dtype == np.uint8 and f["images"].shape[1:] == (32, 32, 3)
        n += f["images"].shape[0]
assert n == 5
PY

# Item 2: the synthetic set's shards, one of them replaced by h5py with a shard of 64 px
# images, then one with float32 images: training refuses to read it, naming what is wrong.
expect_exit 0 "$SHADEGAN" shard --synth syn --out gt --shard-size 3
forge() {  # forge DTYPE SIZE: shard-00001.h5 rewritten with images of that type and size
  $PY - "$1" "$2" <<'PY' || fail "h5py could not rewrite the shard"
import h5py, numpy as np, sys
dtype, size = sys.argv[1], int(sys.argv[2])
with h5py.File("gt/shard-00001.h5", "r") as f:
    keep = {k: f[k][...] for k in f if k != "images"}
    attrs = dict(f.attrs)
with h5py.File("gt/shard-00001.h5", "w") as f:
    for k, v in attrs.items():
        f.attrs[k] = v
    for k, v in keep.items():
        f[k] = v
    f["images"] = np.full((3, size, size, 3), 171, dtype=dtype)
PY
}
forge uint8 64
expect_exit 1 "$SHADEGAN" train --run-dir run --data gt --curriculum "$SG_SOURCE_DIR/tests/train/tiny.toml" \
  --light-prior syn/light_prior.pth --stop-step 1
expect_out "shard-00001.h5' dataset 'images' holds \(3, 64, 64, 3\) uint8 but '.*manifest.json' says \(3, 32, 32, 3\) uint8"
forge float32 32
expect_exit 1 "$SHADEGAN" train --run-dir run2 --data gt --curriculum "$SG_SOURCE_DIR/tests/train/tiny.toml" \
  --light-prior syn/light_prior.pth --stop-step 1
expect_out "holds \(3, 32, 32, 3\) float32 but .* says \(3, 32, 32, 3\) uint8"
echo "ok"
