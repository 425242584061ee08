# A stop signal ends `shadegan eval` within one batch with exit 75 and a message, on one rank
# and on two: eval used to install the stop handlers and never look at them, so TERM, INT and
# USR1 were swallowed until the whole evaluation had finished.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
TINY="$SG_SOURCE_DIR/tests/train/tiny.toml"
expect_exit 0 "$SHADEGAN" synth -o r/synth --count 16 --size 16
expect_exit 0 "$SHADEGAN" shard -o r/shard --synth r/synth --shard-size 8
expect_exit 0 "$SHADEGAN" train --run-dir r --curriculum "$TINY" --stop-step 1 --ckpt-every 1 --sample-every 0 --threads 1
# Thousands of images at 16 px: minutes of work, far longer than the wait below.
args=(eval --checkpoint r/train --shards r/shard --synth r/synth --metrics learning --img-size 16
      --num-steps 4 --learning-images 4000 --batch-size 2)

# $1: signal, $2...: launcher words before shadegan. Starts eval, signals it once its learning
# loop is under way, and checks it ends within 60 s with exit 75 and eval's message.
# $EXPECT: the exit status wanted (mpirun, signalled itself, reports its own status).
stop_once() {
  local sig=$1; shift
  rm -rf out; : > log
  "$@" "$SHADEGAN" "${args[@]}" -o out > log 2>&1 &
  local pid=$! waited=0
  until grep -q "learning" log; do
    sleep 0.2; waited=$((waited + 1))
    [ $waited -lt 600 ] || { kill -9 $pid; fail "eval never reached its learning loop: $(cat log)"; }
    kill -0 $pid 2>/dev/null || fail "eval ended before it was signalled: $(cat log)"
  done
  sleep 1
  kill -"$sig" $pid
  local t0=$SECONDS
  while kill -0 $pid 2>/dev/null; do
    [ $((SECONDS - t0)) -lt 60 ] || { kill -9 $pid; fail "SIG$sig: eval still running 60 s after the signal: $(tail -5 log)"; }
    sleep 0.2
  done
  set +e; wait $pid; local code=$?; set -e
  if [ "$EXPECT" = any ]; then
    [ $code -ne 0 ] || fail "SIG$sig: exit 0 after a stop: $(tail -5 log)"
  else
    [ $code -eq "$EXPECT" ] || fail "SIG$sig: exit $code, expected $EXPECT: $(tail -5 log)"
  fi
  [ "$(grep -c "eval: stopped by signal $(kill -l "$sig")" log)" -ge "$RANKS" ] || fail "SIG$sig: not every rank's stop message: $(tail -5 log)"
  [ ! -e out/metrics.json ] || fail "SIG$sig: a stopped eval wrote metrics.json"
}
EXPECT=75 RANKS=1
stop_once TERM env
stop_once INT env
stop_once USR1 env
# Two ranks under mpirun, which forwards SIGTERM to both: each stops within a batch, and the job
# ends (mpirun's own status on a signal is its business: not 0).
EXPECT=any RANKS=2
stop_once TERM mpirun -np 2
echo "eval_stop_test: ok"
