#!/usr/bin/env bash
# The parity cases under the fixture's own BLAS (Debian's netlib reference libblas), where the
# port must reproduce the reference bit for bit (strict mode of tests/model/parity_test.cpp).
# The default install maps OpenBLAS, under which test_model checks the looser, measured bounds.
set -euo pipefail
bin="$(dirname "$SHADEGAN")/tests/test_model"
netlib=/usr/lib/x86_64-linux-gnu/blas
if [[ ! -e $netlib/libblas.so.3 ]]; then
  echo "SKIP: netlib libblas3 is not installed ($netlib/libblas.so.3)"; exit 0
fi
[[ -x $bin ]] || { echo "FAIL: $bin not built"; exit 1; }
out=$(LD_LIBRARY_PATH=$netlib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$bin" -tc='parity*' -s 2>&1) || {
  echo "$out"; exit 1; }
echo "$out" | grep -E 'MESSAGE|test cases'
# It must really have run in strict mode, on every rendered variant.
n=$(echo "$out" | grep -c 'reference BLAS, strict' || true)
[[ $n -eq 3 ]] || { echo "FAIL: expected 3 strict comparisons, saw $n"; exit 1; }
