#!/usr/bin/env bash
# Mistakes in pipeline files and run/status arguments: exit 2, nothing started, and a message
# naming the file and line (or the argument) and what was expected.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"

# bad NAME EXPECTED-REGEX: the pipeline on stdin fails with exit 2 and that message.
bad() {
  cat > "$WORK/$1.toml"
  expect_exit 2 "$SHADEGAN" run "$WORK/$1.toml" --run-dir "$WORK/r-$1"
  expect_out "$2"
  [ ! -e "$WORK/r-$1" ] || fail "$1: a run directory was created for a pipeline that does not load"
}

bad kind "$WORK/kind.toml:3: a.kind: unknown stage kind 'comand' \(did you mean 'command'\?\); valid: .*command" <<'EOF2'
[[stage]]
name = "a"
kind = "comand"
EOF2

bad param "$WORK/param.toml:5: a.output: unknown parameter of kind 'command' 'output' \(did you mean 'outputs'\?\); valid: outputs, run" \
  < <(command_stage a true 'output = ["x"]')

bad type "$WORK/type.toml:4: a.run: expected a string, got an integer" <<'EOF2'
[[stage]]
name = "a"
kind = "command"
run = 5
EOF2

bad required "$WORK/required.toml:2: a: missing required parameter 'run' of kind 'command'" <<'EOF2'
[[stage]]
name = "a"
kind = "command"
EOF2

bad cycle "$WORK/cycle.toml:[0-9]+: dependency cycle: a -> b -> a" \
  < <(command_stage a true 'after = ["b"]'; command_stage b true 'after = ["a"]')

bad unknown_dep "$WORK/unknown_dep.toml:2: a.after: unknown stage 'prep' \(did you mean 'prop'\?\); valid: a, prop" \
  < <(command_stage a true 'after = ["prep"]'; command_stage prop true)

bad duplicate "$WORK/duplicate.toml:6: stage name 'a' is used twice \(first at $WORK/duplicate.toml:2\)" \
  < <(command_stage a true; command_stage a true)

bad ranks "$WORK/ranks.toml:2: a.ranks: kind 'command' does not run under MPI" < <(command_stage a true 'ranks = 2')

bad syntax "$WORK/syntax.toml:3:[0-9]+: TOML syntax error" <<'EOF2'
[[stage]]
name = "a"
kind = = "command"
EOF2

# Arguments: unknown stages in --set and --force, malformed --set, missing file, not a run.
command_stage a true > "$WORK/ok.toml"
expect_exit 2 "$SHADEGAN" run "$WORK/ok.toml" --run-dir "$WORK/r" --set b.run=x
expect_out "--set b.run: unknown stage 'b'.*; valid: a"
expect_exit 2 "$SHADEGAN" run "$WORK/ok.toml" --run-dir "$WORK/r" --set arun=x
expect_out 'expected stage.key=value'
expect_exit 2 "$SHADEGAN" run "$WORK/ok.toml" --run-dir "$WORK/r" --force b
expect_out "unknown stage 'b'.*; valid: a"
expect_exit 2 "$SHADEGAN" run "$WORK/missing.toml"
expect_out "pipeline file '$WORK/missing.toml' does not exist"
expect_exit 2 "$SHADEGAN" status "$WORK"
expect_out "'$WORK' is not a run directory \(it has no run.toml\)"
expect_exit 0 "$SHADEGAN" run "$WORK/ok.toml" --run-dir "$WORK/r"
echo "pipeline_errors_test: ok"
