#!/usr/bin/env bash
# The parity cases under the fixture's own BLAS (Debian's netlib reference libblas), where the
# port must reproduce the reference bit for bit (strict mode of tests/model/parity_test.cpp).
# The default install maps OpenBLAS, under which test_model checks the looser, measured bounds.
# Netlib is ~8x slower, so this runs the cases that cover the whole pipeline once: mapping and
# SIREN points, and the hierarchical render (averages, noise, importance sampling, fine pass,
# integration, shading, surface net). The perturbation is BLAS-independent and checked exactly
# by test_model itself.
set -euo pipefail
bin="$(dirname "$SHADEGAN")/tests/test_model"
netlib=/usr/lib/x86_64-linux-gnu/blas
if [[ ! -e $netlib/libblas.so.3 ]]; then
  echo "SKIP: netlib libblas3 is not installed ($netlib/libblas.so.3)"; exit 0
fi
[[ -x $bin ]] || { echo "FAIL: $bin not built"; exit 1; }
out=$(LD_LIBRARY_PATH=$netlib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$bin" -tc='parity: mapping*,parity: hierarchical*' -s 2>&1) || {
  echo "$out"; exit 1; }
echo "$out" | grep -E 'MESSAGE|test cases'
# It must really have run in strict mode, on every rendered variant.
n=$(echo "$out" | grep -c 'reference BLAS, strict' || true)
[[ $n -eq 1 ]] || { echo "FAIL: expected 1 strict render comparison, saw $n"; exit 1; }
echo "$out" | grep -q 'siren: sigma 0 rgb 0' || { echo "FAIL: SIREN points not bit-identical"; exit 1; }
