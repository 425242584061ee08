#!/usr/bin/env bash
# The forward parity cases under the fixture's own BLAS (Debian's netlib reference libblas, from
# the libblas3 package), where the port must reproduce the reference bit for bit: strict mode of
# tests/model/parity_test.cpp, entered because sgemm_ then resolves to a library the fixture's JSON
# lists as mapped. The default install maps OpenBLAS, under which test_model bounds each output by
# its measured float noise instead. The fixture is $SG_PARITY_FIXTURES, else $SG_SHARED_DIR's
# (tests/CMakeLists.txt finds it), else ../shared's.
set -euo pipefail
bin="$(dirname "$SHADEGAN")/tests/test_model"
netlib=/usr/lib/x86_64-linux-gnu/blas
fixtures=${SG_PARITY_FIXTURES:-${SG_SHARED_DIR:-$SG_SOURCE_DIR/../shared}/fixtures/parity}
if [[ ! -e $netlib/libblas.so.3 ]]; then
  echo "FAIL: netlib libblas3 is not installed ($netlib/libblas.so.3; install.sh installs it)"; exit 1
fi
[[ -x $bin ]] || { echo "FAIL: $bin not built"; exit 1; }
# Only a fixture made under netlib can be matched bit for bit under netlib.
made_under=$(/usr/bin/python3 - "$fixtures" <<'EOF'
import json, pathlib, sys
docs = [json.loads(p.read_text()) for p in pathlib.Path(sys.argv[1]).glob("*.json")]
docs = [d for d in docs if "h5_layout" in d]
print(" ".join(docs[0]["env"]["blas_libs_mapped"]) if len(docs) == 1 else "")
EOF
)
[[ -n $made_under ]] || { echo "FAIL: no parity fixture JSON in $fixtures"; exit 1; }
if [[ $made_under != *"$netlib/libblas.so"* ]]; then
  echo "FAIL: the fixture was not made under netlib BLAS (it mapped: $made_under): nothing here could be matched bit for bit"; exit 1
fi
# Every parity case: without the float64 runs of the measured mode, netlib takes about as long.
out=$(LD_LIBRARY_PATH=$netlib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$bin" -tc='parity: *' -s 2>&1) || {
  echo "$out"; exit 1; }
echo "$out" | grep -E 'MESSAGE|test cases' || true
# It must really have run strict, in every case that has a mode (mapping + three renders), and
# compared every render output.
n=$(echo "$out" | grep -c ', strict\]' || true)
[[ $n -eq 4 ]] || { echo "FAIL: expected 4 strict cases, saw $n"; exit 1; }
m=$(echo "$out" | grep -cE 'render_[a-z_]+ normal: 0$' || true)
[[ $m -eq 3 ]] || { echo "FAIL: expected 3 bit-identical render normals, saw $m"; exit 1; }
grep -q 'siren normal: 0$' <<<"$out" || { echo "FAIL: SIREN normals not bit-identical"; exit 1; }
