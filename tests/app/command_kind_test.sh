#!/usr/bin/env bash
# The `command` stage kind: runs in its stage directory with SG_RUN_DIR, SG_STAGE_DIR and
# SG_INPUT_<DEP> set; a declared output that is not created fails the stage, naming it.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
R=$WORK/run
{
  pipeline_header cmd
  command_stage make-data 'mkdir -p deep && echo 42 > deep/n.txt' 'outputs = ["deep/n.txt"]'
  command_stage use 'printf "%s\n%s\n%s\n%s\n" "$PWD" "$SG_RUN_DIR" "$SG_STAGE_DIR" "$(cat "$SG_INPUT_MAKE_DATA/deep/n.txt")" > env.txt' \
    'after = ["make-data"]' 'outputs = ["env.txt"]'
  command_stage forgetful 'echo "did something else" > other.txt' 'outputs = ["promised.txt"]'
} > "$WORK/p.toml"
expect_exit 1 "$SHADEGAN" run "$WORK/p.toml" --run-dir "$R"
expect_out "declared output 'promised.txt' is missing in $R/forgetful"
[ "$(cat "$R/use/env.txt")" = "$(printf '%s\n' "$R/use" "$R" "$R/use" 42)" ] ||
  fail "env.txt: $(cat "$R/use/env.txt")"
/usr/bin/python3 - "$R" <<'PY'
import json, sys
m = json.load(open(sys.argv[1] + "/state/make-data.json"))
assert m["kind"] == "command" and m["kind_version"] == 1, m
assert m["params"] == {"run": "mkdir -p deep && echo 42 > deep/n.txt", "outputs": ["deep/n.txt"], "tasks": 1}, m["params"]
assert [(o["path"], o["size"]) for o in m["outputs"]] == [("deep/n.txt", 3)], m["outputs"]
u = json.load(open(sys.argv[1] + "/state/use.json"))
assert u["inputs"]["make-data"]["fingerprint"] == m["fingerprint"], u
f = json.load(open(sys.argv[1] + "/state/forgetful.failed.json"))
assert f["exit_code"] == 1 and any("promised.txt" in l for l in f["log_tail"]), f
PY
expect_exit 0 "$SHADEGAN" stage-exec --help
expect_exit 0 "$SHADEGAN" --help
expect_no_out 'stage-exec'
echo "command_kind_test: ok"
