# One rank of `mpirun -np 2 shadegan train` fails after MPI started while the other goes on to a
# collective: the job must end with the failing rank's message and a failure exit, not hang
# (the failing rank used to return from main, and MPI_Finalize at exit waited for the rank that
# waited for it). mpirun's MPMD form gives rank 1 an --init file that is not a checkpoint.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
TINY="$SG_SOURCE_DIR/tests/train/tiny.toml"
expect_exit 0 "$SHADEGAN" synth -o r/synth --count 16 --size 16
expect_exit 0 "$SHADEGAN" shard -o r/shard --synth r/synth --shard-size 8
printf 'not a checkpoint' > garbage.pth
common=(train --run-dir r --curriculum "$TINY" --stop-step 2 --ckpt-every 1 --sample-every 0 --threads 1)
set +e
OUT=$(timeout 300 mpirun -np 1 "$SHADEGAN" "${common[@]}" : -np 1 "$SHADEGAN" "${common[@]}" --init garbage.pth 2>&1)
code=$?
set -e
[ "$code" -ne 124 ] || fail "the job hung (killed by timeout after 300 s):
$OUT"
[ "$code" -ne 0 ] || fail "the job succeeded although rank 1 failed:
$OUT"
expect_out "garbage\.pth"
[ ! -e r/train/LATEST ] || fail "a checkpoint was written: $(cat r/train/LATEST)"
echo "mpi_rank_failure_test: ok (exit $code)"
