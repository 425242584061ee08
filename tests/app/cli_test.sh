#!/usr/bin/env bash
# The binary's contract: --version, --help on every subcommand, exit codes for usage errors,
# and `info` reporting what a cluster install needs.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"

expect_exit 0 "$SHADEGAN" --version
expect_out '^shadegan [0-9]+\.[0-9]+\.[0-9]+$'

expect_exit 0 "$SHADEGAN" --help
expect_out 'info'

# Every registered subcommand answers --help with exit 0.
cmds=$("$SHADEGAN" --help | awk '/^Subcommands:/{on=1; next} on && NF {print $1}')
for want in info config run status synth shard; do
  grep -qx "$want" <<<"$cmds" || fail "--help does not list '$want' (got: $cmds)"
done
for cmd in $cmds; do
  expect_exit 0 "$SHADEGAN" "$cmd" --help
  expect_out 'Usage:'
done

# Usage errors are exit 2.
expect_exit 2 "$SHADEGAN"
expect_exit 2 "$SHADEGAN" no-such-command
expect_exit 2 "$SHADEGAN" info --no-such-flag

# info: versions, the BLAS actually mapped, MPI and HDF5 facts, as JSON that parses.
expect_exit 0 "$SHADEGAN" info --json
/usr/bin/python3 - "$OUT" <<'PY'
import json, sys
j = json.loads(sys.argv[1])
assert j["libtorch"].startswith("1."), j
assert j["mpi_size"] == 1 and j["mpi_rank"] == 0, j
assert j["hdf5_parallel"] is True, j
assert any("blas" in p for p in j["blas_mapped"]), j["blas_mapped"]
assert j["torch_intraop_threads"] >= 1
assert j["cuda_available"] in (True, False)
PY

# Under mpirun, two ranks see size 2 and rank 0 prints.
expect_exit 0 mpirun -np 2 "$SHADEGAN" info --json
/usr/bin/python3 -c 'import json,sys; j=json.loads(sys.argv[1]); assert j["mpi_size"]==2, j' "$OUT"
echo "cli_test: ok"
