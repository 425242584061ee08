#!/usr/bin/env bash
# -j 2 runs independent stages at the same time: x and y each wait for the other to have
# started, so both succeed only when they overlap; their markers' times overlap too. With -j 1
# they cannot both succeed.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
export SG_TEST_WORK=$WORK
P=$SG_SOURCE_DIR/tests/fixtures/pipelines/parallel.toml

expect_exit 0 "$SHADEGAN" run "$P" --run-dir "$WORK/r2" -j 2
/usr/bin/python3 - "$WORK/r2" <<'PY'
import json, sys
x = json.load(open(sys.argv[1] + "/state/x.json"))
y = json.load(open(sys.argv[1] + "/state/y.json"))
# ISO 8601 UTC strings of equal length compare as times.
assert x["started"] < y["ended"] and y["started"] < x["ended"], (x["started"], x["ended"], y["started"], y["ended"])
PY

rm -f "$WORK"/*.started
SG_WAIT_STEPS=10 expect_exit 1 "$SHADEGAN" run "$P" --run-dir "$WORK/r1" -j 1
expect_out 'x failed after .*: exit code 1'
expect_out '\| .*command exited with code 9'
[ -f "$WORK/r1/state/y.json" ] || fail "y (independent of x) did not finish"
[ ! -f "$WORK/r1/state/x.json" ] || fail "x has a marker although it failed"
expect_exit 2 "$SHADEGAN" run "$P" --run-dir "$WORK/r0" -j 0
expect_out 'expected at least 1'
echo "parallel_test: ok"
