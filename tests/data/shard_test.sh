# shadegan synth + shard from the command line: 1 and 2 ranks give byte-identical shards, the
# files read back in h5py / h5dump / Python's torch, a folder of exported images shards to the
# same pixels, kill -9 then rerun finishes without redoing kept shards, and bad input is a
# clear error.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
PY=/usr/bin/python3

expect_exit 0 "$SHADEGAN" synth --out syn --count 24 --size 32 --seed 5 \
  --curriculum "$SG_SOURCE_DIR/configs/CATS_ShadeGAN.toml" --images png
for f in synth.toml light_prior.toml light_prior.pth preview.png images/000023.png; do
  [ -s "syn/$f" ] || fail "synth did not write $f"
done
grep -q 'sample_dist = "uniform"' syn/synth.toml || fail "the Cats curriculum's camera was not used"
grep -q 'ray_start = 0.80' syn/synth.toml || fail "the Cats curriculum's ray_start was not used"

# The prior loads in Python's torch as the reference's {mean, cov} dict, equal to the TOML.
$PY - <<'PY' || fail "light_prior.pth does not load in torch or differs from the TOML"
import torch, tomllib
d = torch.load("syn/light_prior.pth")
t = tomllib.load(open("syn/light_prior.toml", "rb"))
assert set(d) == {"mean", "cov"}, d.keys()
assert d["mean"].shape == (4,) and d["cov"].shape == (4, 4) and d["mean"].dtype == torch.float32
assert torch.allclose(d["mean"], torch.tensor(t["mean"], dtype=torch.float32))
assert torch.allclose(d["cov"], torch.tensor(t["cov"], dtype=torch.float32))
torch.distributions.MultivariateNormal(d["mean"], d["cov"]).sample()
PY

# 1 rank and 2 ranks: identical bytes.
expect_exit 0 mpirun -np 1 "$SHADEGAN" shard --synth syn --out one --shard-size 7
expect_exit 0 mpirun -np 2 "$SHADEGAN" shard --synth syn --out two --shard-size 7
[ "$(ls one/*.h5 | wc -l)" -eq 4 ] || fail "expected 4 shards"
for f in one/*.h5; do cmp -s "$f" "two/$(basename "$f")" || fail "$(basename "$f") differs between 1 and 2 ranks"; done

# h5dump shows the documented layout; h5py reads images and ground truth.
expect_exit 0 h5dump -H -p one/shard-00000.h5
for d in images index albedo mask depth normal pose light; do expect_out "DATASET \"$d\""; done
expect_out 'H5T_STD_U8LE'
expect_no_out "DEFLATE|SHUFFLE|CHUNKED"  # pixels uncompressed by default, each dataset one block
expect_out "CONTIGUOUS"
expect_out "format_version"
# --deflate 1 deflates every per-sample dataset (with shuffle), and holds the same values.
expect_exit 0 mpirun -np 1 "$SHADEGAN" shard --synth syn --out z --shard-size 7 --deflate 1
expect_exit 0 h5dump -H -p z/shard-00000.h5
expect_out "DEFLATE \\{ LEVEL 1 \\}"
expect_out "SHUFFLE"
expect_out "CHUNKED \\( 1, 32, 32, 3 \\)"
# h5dump (no Python needed) reads the same values from the contiguous blocks RegionWriter filled
# past the page cache as from the chunks HDF5 wrote itself.
for d in images albedo mask depth normal pose light index; do
  h5dump -d "$d" one/shard-00001.h5 | sed 1d >plain.txt || fail "h5dump cannot read $d"
  h5dump -d "$d" z/shard-00001.h5 | sed 1d >deflated.txt || fail "h5dump cannot read $d (deflated)"
  grep -q "DATA {" plain.txt || fail "h5dump shows no data for $d"
  diff <(grep -v "STORAGE\|FILTER\|SIZE\|CHUNK\|LAYOUT" plain.txt) \
       <(grep -v "STORAGE\|FILTER\|SIZE\|CHUNK\|LAYOUT" deflated.txt) >/dev/null ||
    fail "h5dump reads other values of $d from the uncompressed shard than from the deflated one"
done
$PY - <<'PY' || fail "deflated shards differ from uncompressed ones"
import h5py, json, numpy as np
a, b = json.load(open("one/manifest.json")), json.load(open("z/manifest.json"))
assert a["deflate"] == 0 and b["deflate"] == 1 and a["content_hash"] != b["content_hash"]
for s in a["shards"]:
    with h5py.File("one/" + s["file"], "r") as f, h5py.File("z/" + s["file"], "r") as g:
        assert g["images"].compression == "gzip" and f["images"].compression is None
        for d in ("images", "index", "albedo", "mask", "depth", "normal", "pose", "light"):
            assert np.array_equal(f[d][...], g[d][...]), d
PY
$PY - <<'PY' || fail "h5py read-back failed"
import h5py, json, numpy as np
m = json.load(open("one/manifest.json"))
assert m["count"] == 24 and m["store_size"] == 32, m
n = 0
for s in m["shards"]:
    with h5py.File("one/" + s["file"], "r") as f:
        assert f["images"].dtype == np.uint8 and f["images"].shape[1:] == (32, 32, 3)
        assert f["depth"].dtype == np.float32 and f["normal"].shape[1:] == (32, 32, 3)
        assert f.attrs["format"] in (b"shadegan-shard", "shadegan-shard")
        n += f["images"].shape[0]
        nrm = np.linalg.norm(f["normal"][...], axis=-1)
        msk = f["mask"][...] == 1
        assert np.allclose(nrm[msk], 1, atol=1e-4) and np.all(nrm[~msk] == 0)
assert n == 24
PY

# The exported PNGs, sharded as an image folder, give the same pixels as the generator's shards.
cat > r32.toml <<'T'
name = "synth32"
pattern = "*.png"
[[step]]
op = "center_crop"
size = 32
T
expect_exit 0 "$SHADEGAN" shard --source syn/images --recipe r32.toml --out folder --shard-size 7
$PY - <<'PY' || fail "folder shards differ from generator shards"
import h5py, numpy as np
for k in range(4):
    a = h5py.File(f"one/shard-{k:05d}.h5", "r")["images"][...]
    b = h5py.File(f"folder/shard-{k:05d}.h5", "r")["images"][...]
    assert np.array_equal(a, b), k
PY

# Interrupted in the middle, then rerun: finishes, keeps the shards already done, same content.
expect_exit 0 "$SHADEGAN" synth --out big --count 240 --size 32 --seed 1
expect_exit 0 "$SHADEGAN" shard --synth big --out ref --shard-size 8

# Starts sharding big/ into $1 in the background (pid in $pid) and waits for $2 finished parts.
start_sharding() {
  "$SHADEGAN" shard --synth big --out "$1" --shard-size 8 >"$1.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do
    [ "$(ls "$1/parts" 2>/dev/null | wc -l)" -ge "$2" ] && break
    sleep 0.05
  done
}
# Reruns the sharding of $1 and checks it ends equal to ref/, keeping at least $2 shards.
rerun_equals_ref() {
  [ ! -e "$1/manifest.json" ] || fail "the interrupted run into $1 finished first; make it bigger"
  expect_exit 0 "$SHADEGAN" shard --synth big --out "$1" --shard-size 8
  $PY - "$1" "$2" <<'PY' || fail "the run resumed in $1 differs from the uninterrupted one or redid kept shards"
import json, sys
a = json.load(open("ref/manifest.json")); b = json.load(open(sys.argv[1] + "/manifest.json"))
assert a["content_hash"] == b["content_hash"]
assert b["shards_kept"] >= int(sys.argv[2]) and b["shards_built"] + b["shards_kept"] == 30, b
PY
}

# kill -9: nothing is cleaned up, yet nothing finished is lost.
start_sharding killed 3
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
rerun_equals_ref killed 3

# A stop signal (Slurm's USR1 ahead of a time limit) stops between shards with exit 75
# (preempted) and no manifest.
start_sharding stopped 1
kill -USR1 "$pid"
set +e; wait "$pid"; code=$?; set -e
[ "$code" -eq 75 ] || fail "shard exited $code after SIGUSR1, expected 75: $(tail -3 stopped.log)"
grep -q "shard: stopped on signal 10" stopped.log || fail "no stop message: $(tail -3 stopped.log)"
rerun_equals_ref stopped 1

# A stop signal during the image export: exit 75 (preempted), the images written so far stay,
# and the rerun exports only the rest. 300 images of 64 px take seconds; the signal is sent
# once the first is written.
"$SHADEGAN" synth --out stopsyn --count 300 --size 64 --images png >stop.log 2>&1 &
pid=$!
wait_for_file stopsyn/images/000000.png
kill -USR1 $pid
set +e; wait $pid; code=$?; set -e
[ "$code" -eq 75 ] || fail "synth exited $code after SIGUSR1, expected 75: $(tail -3 stop.log)"
grep -q "synth images: stopped on signal 10" stop.log || fail "no stop message: $(tail -3 stop.log)"
kept=$(ls stopsyn/images | wc -l)
[ "$kept" -ge 1 ] && [ "$kept" -lt 300 ] || fail "the stopped export left $kept images"
stamp=$(stat -c %Y.%N stopsyn/images/000000.png)
expect_exit 0 "$SHADEGAN" synth --out stopsyn --count 300 --size 64 --images png
[ "$(ls stopsyn/images | wc -l)" -eq 300 ] || fail "the rerun did not export every image"
[ "$(stat -c %Y.%N stopsyn/images/000000.png)" = "$stamp" ] || fail "the rerun rewrote a kept image"

# On 2 ranks a signal that reaches one rank only (a kill aimed at one process, a node-local
# preemption) stops both within two images: the ranks vote on a stop every round (counted a
# round later, mpi/rounds.h). Before the votes,
# the unsignalled rank 0 exported all of its 300 images before learning of the stop.
mpirun -np 2 --bind-to none "$SHADEGAN" synth --out onesig --count 600 --size 64 --images png >onesig.log 2>&1 &
pid=$!
wait_for_file onesig/images/000001.png
rank1=""
for p in $(pgrep -f "synth --out onesig"); do
  tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1' && rank1=$p
done
[ -n "$rank1" ] || fail "cannot find rank 1 of the 2-rank synth"
kill -USR1 "$rank1"
set +e; wait $pid; code=$?; set -e
[ "$code" -eq 75 ] || fail "2-rank synth exited $code after SIGUSR1 to rank 1, expected 75: $(tail -5 onesig.log)"
even=$(ls onesig/images | grep -c '[02468]\.png$' || true)
[ "$even" -lt 300 ] || fail "rank 0 (never signalled) exported all its $even images before stopping"
# The same for sharding: 250 shards of 4 on 2 ranks, USR1 to rank 1 only once a shard exists;
# rank 0 must not go on to build all 125 of its own.
expect_exit 0 "$SHADEGAN" synth --out syn1000 --count 1000 --size 32
mpirun -np 2 --bind-to none "$SHADEGAN" shard --synth syn1000 --out onesigsh --shard-size 4 >onesigsh.log 2>&1 &
pid=$!
wait_for_file onesigsh/shard-00001.h5
rank1=""
for p in $(pgrep -f "shard --synth syn1000"); do
  tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1' && rank1=$p
done
[ -n "$rank1" ] || fail "cannot find rank 1 of the 2-rank shard"
kill -USR1 "$rank1"
set +e; wait $pid; code=$?; set -e
[ "$code" -eq 75 ] || fail "2-rank shard exited $code after SIGUSR1 to rank 1, expected 75: $(tail -5 onesigsh.log)"
even=$(ls onesigsh | grep -c '[02468]\.h5$' || true)
[ "$even" -lt 125 ] || fail "rank 0 (never signalled) built all its $even shards before stopping"
[ ! -e onesigsh/manifest.json ] || fail "a stopped shard stage wrote its manifest"

# Bad input: clear errors naming what is wrong.
mkdir empty
expect_exit 2 "$SHADEGAN" shard --source 'empty/*.jpg' --recipe celeba --out x
expect_out "empty/\*\.jpg' matches no files"
expect_exit 2 "$SHADEGAN" shard --source 'syn/images' --recipe celeb --out x
expect_out "did you mean 'celeba'"
touch afile
expect_exit 1 "$SHADEGAN" shard --synth syn --out afile/out
expect_out "afile"
expect_exit 2 "$SHADEGAN" synth --out y --sample-dist gausian
expect_out "did you mean 'gaussian'"
echo "ok"
