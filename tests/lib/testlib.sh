# Shared helpers for the command-line tests (*_test.sh). Each test sources this file.
# Every check fails the test with a message naming what was expected; nothing is skipped.
set -euo pipefail
: "${SHADEGAN:?SHADEGAN must point at build/shadegan}"
: "${SG_SOURCE_DIR:?}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
TEST_NAME=$(basename "$0" .sh)
mkdir -p "${SG_TEST_TMP:-/tmp}"
WORK=$(mktemp -d "${SG_TEST_TMP:-/tmp}/${TEST_NAME}.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

fail() { echo "FAIL [$TEST_NAME]: $*" >&2; exit 1; }

# expect_exit CODE cmd...: run cmd, capture stdout+stderr in $OUT, require the exit code.
expect_exit() {
  local want=$1; shift
  set +e; OUT=$("$@" 2>&1); local got=$?; set -e
  [ "$got" -eq "$want" ] || fail "expected exit $want, got $got from: $*
$OUT"
}
# expect_out PATTERN: $OUT must contain the extended regex PATTERN.
expect_out() { grep -Eq -- "$1" <<<"$OUT" || fail "output lacks /$1/:
$OUT"; }
expect_no_out() { ! grep -Eq -- "$1" <<<"$OUT" || fail "output unexpectedly has /$1/:
$OUT"; }

# Pipeline files of `command` stages, written to stdout, e.g.
#   { pipeline_header fan; command_stage prep 'echo x > x.txt' 'outputs = ["x.txt"]'; } > fan.toml
pipeline_header() { printf '[pipeline]\nname = "%s"\n' "$1"; }
# command_stage NAME RUN [LINE...]: a [[stage]] of kind "command". RUN is written as a TOML
# literal string ('''...''': taken as is, no escapes, may span lines; a first newline is dropped);
# each LINE (`after = ["prep"]`, `tasks = 4`, `outputs = ["part-{task}.txt"]`) follows as written.
command_stage() {
  printf '[[stage]]\nname = "%s"\nkind = "command"\n' "$1"
  printf "run = '''%s'''\n" "$2"
  shift 2
  [ $# -eq 0 ] || printf '%s\n' "$@"
}

# wait_for_file FILE: poll until FILE exists (30 s at most), else fail.
wait_for_file() {
  for _ in $(seq 600); do [ -e "$1" ] && return 0; sleep 0.05; done
  fail "timed out waiting for $1"
}

# tiny_train_pipeline NAME [LINE...]: a pipeline (stdout) of the synthetic set (16 images of
# 16 px), its shards and training on 2 ranks with tests/train/tiny.toml; each LINE
# (`stop_step = 3`, `ckpt_every = 2`) is added to the train stage.
tiny_train_pipeline() {
  printf '[pipeline]\nname = "%s"\nranks = 2\n' "$1"
  printf '[[stage]]\nname = "synth"\nkind = "synth"\ncount = 16\nsize = 16\n'
  printf '[[stage]]\nname = "shard"\nkind = "shard"\nafter = ["synth"]\nshard_size = 8\n'
  printf '[[stage]]\nname = "train"\nkind = "train"\nafter = ["shard", "synth"]\ncurriculum = "%s"\n' \
    "$SG_SOURCE_DIR/tests/train/tiny.toml"
  shift
  [ $# -eq 0 ] || printf '%s\n' "$@"
}

# same_training_state CKPT_A CKPT_B: two checkpoints hold the same training state bit for bit:
# generator, discriminator, both EMAs, and both Adam optimizers' moments and step counts. The
# optimizer archives are not compared as files: LibTorch keys (and so orders) their per-parameter
# state by tensor addresses, which differ between processes; their raw tensor storages are
# compared as a multiset, and so are the pickled scalars (step counts, options) minus the keys.
same_training_state() {
  local f
  for f in generator.pth discriminator.pth ema.pth ema2.pth; do
    [ -s "$1/$f" ] || fail "no $f in $1"
    [ -s "$2/$f" ] || fail "no $f in $2"
    cmp -s "$1/$f" "$2/$f" || fail "$f differs between $1 and $2"
  done
  /usr/bin/python3 - "$1" "$2" <<'PY' || fail "the optimizer states differ between $1 and $2"
import collections, hashlib, pickletools, sys, zipfile
def content(path):
    with zipfile.ZipFile(path) as z:
        blobs = collections.Counter(hashlib.sha256(z.read(n)).hexdigest()
                                    for n in z.namelist() if n.startswith("archive/data/"))
        scalars = collections.Counter(
            (op.name, arg) for op, arg, _ in pickletools.genops(z.read("archive/data.pkl"))
            if op.name.startswith(("BININT", "BINFLOAT", "NEWTRUE", "NEWFALSE", "BINUNICODE"))
            and not (isinstance(arg, str) and arg.startswith("0x")))  # the address keys
    return blobs, scalars
for f in ("optimizer_G.pt", "optimizer_D.pt"):
    (ta, sa), (tb, sb) = (content(f"{d}/{f}") for d in sys.argv[1:3])
    assert ta and ta == tb, f"{f}: {sum((ta - tb).values())} of {sum(ta.values())} tensors differ"
    assert sa == sb, f"{f}: scalars differ: {sa - sb} against {sb - sa}"
PY
}
