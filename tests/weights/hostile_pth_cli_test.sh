# shadegan render on hostile .pth files (issue 21, item 1; extract, eval and train --init load
# weights through the same reader): each is refused with exit 1 and a FormatError naming the
# file, never a crash (it was exit 139) or a runaway allocation. The files are crafted with
# python3: pickle and zip bytes by hand, torch only for a module holding itself.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
{ echo "surf_nf = 8"; cat "$SG_SOURCE_DIR/configs/CelebA_ShadeGAN_view.toml"; } > cur.toml
cat > prior.toml <<'TOML'
mean = [0.1, 0.3, 0.2, 0.1]
cov = [[0.05, 0, 0, 0], [0, 0.05, 0, 0], [0, 0, 0.05, 0], [0, 0, 0, 0.05]]
TOML

/usr/bin/python3 - <<'PY'
import struct, zipfile

def torch_zip(path, pkl, method=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("archive/data.pkl"), pkl, compress_type=method)
        z.writestr(zipfile.ZipInfo("archive/version"), b"3\n")

# A million TUPLE1: ((((),),),...), about 1 MB.
torch_zip("deep.pth", b"\x80\x02)" + b"\x85" * 1000000 + b".")

# A deflated data.pkl whose central directory entry claims 4 GiB uncompressed.
torch_zip("claims.pth", b"\x80\x02}.", zipfile.ZIP_DEFLATED)
b = bytearray(open("claims.pth", "rb").read())
at = b.index(b"PK\x01\x02")  # data.pkl's central directory entry comes first
assert b[at + 46:at + 62] == b"archive/data.pkl" and b[at + 10] == 8
b[at + 24:at + 28] = struct.pack("<I", 0xFFFFFFF0)
open("claims.pth", "wb").write(bytes(b))

# Legacy torch.save: 1000 storages of 1 MiB each named by a 1 MiB file.
def s(x):
    return b"X" + struct.pack("<I", len(x)) + x.encode()
obj = b"\x80\x02]("
for k in range(1000):
    obj += b"(" + s("storage") + b"ctorch\nFloatStorage\n" + s(f"k{k}") + s("cpu") + b"J" + struct.pack("<I", 1 << 18) + b"NtQ"
magic = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19\x2e"
open("storages.pth", "wb").write(magic + b"\x80\x02M\xe9\x03." + b"\x80\x02}." + obj + b"e." + b"\x80\x02]." + bytes(1 << 20))
PY
/usr/bin/python3 "$SG_SOURCE_DIR/tests/weights/weights_py.py" make-cyclic-module cycle.pth

# 1 GiB of data segment: a reader that allocates what a file claims fails here, not the machine.
ulimit -d $((1 << 20))
render() {
  expect_exit 1 timeout 120 "$SHADEGAN" render --checkpoint "$1" --curriculum cur.toml --weights raw \
    --light-prior prior.toml --image-size 8 --num-steps 4 --seeds 0 --out out
}
render deep.pth
expect_out "deep.pth: malformed pickle: values nested deeper than 1000 levels"
render claims.pth
expect_out "claims.pth: zip record 'archive/data.pkl' claims 4294967280 bytes, more than the whole file"
render storages.pth
expect_out "storages.pth: storage 'k1' of 262144 x float32 brings the storages to 2097168 bytes"
render cycle.pth
expect_out "cycle.pth: module 'block.loop' is the top-level module again \(a cycle through _modules\)"
[ ! -e out ] || fail "nothing should have been rendered: $(ls out)"
echo "hostile_pth_cli_test: ok"
