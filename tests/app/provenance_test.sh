# Numbers side by side say which code made them: `info` prints the source commit, and a stage's
# done marker and an aggregated table carry the program's version and commit (src/core/build_info.h).
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
expect_exit 0 "$SHADEGAN" info
expect_out "^source commit +[0-9a-f]{12}$|^source commit +unknown$"
commit=$(grep -Eo '^source commit +[0-9a-f]{12}$' <<<"$OUT" | awk '{print $3}' || true)
if git -C "$SG_SOURCE_DIR" rev-parse --git-dir >/dev/null 2>&1; then
  # A build from a checkout names its commit (CMake configures again when HEAD moves).
  [ "$commit" = "$(git -C "$SG_SOURCE_DIR" rev-parse --short=12 HEAD)" ] ||
    fail "info names commit '$commit', the checkout is at $(git -C "$SG_SOURCE_DIR" rev-parse --short=12 HEAD) (rebuild?)"
fi
cat > p.toml <<'TOML'
[pipeline]
name = "prov"
[[stage]]
name = "make"
kind = "command"
run = 'mkdir -p eval && echo "{\"metrics\": {\"fid\": 1.5}, \"settings\": {}, \"program\": {\"version\": \"0.0.9\", \"commit\": \"0123456789ab\"}}" > eval/metrics.json'
outputs = ["eval/metrics.json"]
TOML
expect_exit 0 "$SHADEGAN" run p.toml --run-dir prov
expect_exit 0 "$SHADEGAN" aggregate prov/make --metrics eval/metrics.json --name prov --out table
/usr/bin/python3 - prov/state/make.json table/table.json table/table.md "$commit" <<'PY' || fail "provenance missing"
import json, sys
marker, table, md, commit = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), open(sys.argv[3]).read(), sys.argv[4]
assert set(marker['program']) == {'version', 'commit'}, marker
assert table['program'] == marker['program'], (table['program'], marker['program'])
if commit:
    assert marker['program']['commit'] == commit, marker['program']
# The run's own evaluator is kept beside the table's, and the Markdown says both.
assert table['runs'][0]['program'] == {'version': '0.0.9', 'commit': '0123456789ab'}, table['runs'][0]
assert 'runs evaluated by shadegan 0.0.9 (commit 0123456789ab) (1 run)' in md, md
assert f"Table by shadegan {table['program']['version']}" in md, md
PY
echo ok
