# shadegan aggregate (subcommand) and the aggregate stage kind: runs with full, partial and
# missing metrics all appear in the tables; relative run globs resolve against the pipeline file.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
mkrun() {  # mkrun DIR POINT_JSON METRICS_JSON|-
  mkdir -p "$1"
  [ "$2" = - ] || echo "{\"sweep\": \"s\", \"run\": \"$(basename "$1")\", \"point\": $2}" > "$1/sweep.json"
  if [ "$3" != - ]; then mkdir -p "$1/eval"; echo "{\"metrics\": $3, \"skipped\": {}}" > "$1/eval/metrics.json"; fi
}
mkrun runs/s-000 '{"train.curriculum": "demo", "train.seed": 0}' '{"fid": 10, "normal_angle_deg": 20}'
mkrun runs/s-001 '{"train.curriculum": "demo", "train.seed": 1}' '{"fid": 14, "normal_angle_deg": 22}'
mkrun runs/s-002 '{"train.curriculum": "demo_pigan", "train.seed": 0}' '{"normal_angle_deg": 30}'
mkrun runs/s-003 '{"train.curriculum": "demo_pigan", "train.seed": 1}' -

expect_exit 0 "$SHADEGAN" aggregate 'runs/s-*' --name s --sort-by normal_angle_deg
for f in table.csv table.md table.json table.html; do [ -s "results/s/$f" ] || fail "no results/s/$f"; done
OUT=$(cat results/s/table.md)
expect_out '\| demo \| s-000 s-001 \| 12 ± 2\.8 \| 21 ± 1\.4 \| ok \|'
expect_out 's-002 partial: absent: fid'
expect_out 's-003 missing: no eval/metrics.json'
expect_exit 2 "$SHADEGAN" aggregate 'runs/s-*' --sort-by fdi
expect_out "fid"

# As a stage of a pipeline: runs relative to the pipeline file, tables in the stage and in `out`.
mkdir -p jobs
cat > jobs/table.toml <<'TOML'
[pipeline]
name = "table"
[[stage]]
name = "table"
kind = "aggregate"
runs = ["../runs/s-*"]
table = "s"
sort_by = "-fid"
TOML
expect_exit 0 "$SHADEGAN" run jobs/table.toml --run-dir runs/table
[ -s runs/table/table/table.csv ] || fail "the stage did not write its own table"
[ -s results/s/table.csv ] || fail "the stage did not write results/s"
/usr/bin/python3 -c "
import json; t = json.load(open('runs/table/table/table.json'))
assert [r['runs'] for r in t['rows']] == [['s-000', 's-001'], ['s-002', 's-003']], t['rows']
assert t['rows'][0]['metrics']['fid']['mean'] == 12 and len(t['runs']) == 4
" || fail "stage table is wrong"
echo ok
