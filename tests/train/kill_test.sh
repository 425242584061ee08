# kill -9 at arbitrary moments of a run that checkpoints every step (so most kills land inside
# a checkpoint write): LATEST always names a complete checkpoint and the run resumes from it.
# Then a truncated newest checkpoint is rejected with a clear message and the previous one used.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
TINY="$SG_SOURCE_DIR/tests/train/tiny.toml"
PY=/usr/bin/python3

expect_exit 0 "$SHADEGAN" synth -o r/synth --count 16 --size 16
expect_exit 0 "$SHADEGAN" shard -o r/shard --synth r/synth --shard-size 8

check_latest() {  # LATEST names a directory whose meta.json lists files of the recorded sizes
  $PY - r/train <<'PYEOF' || fail "LATEST is not a complete checkpoint after kill -9 ($1)"
import json, os, sys
t = sys.argv[1]
name = open(t + '/LATEST').read().strip()
d = os.path.join(t, 'ckpt', name)
meta = json.load(open(d + '/meta.json'))
assert meta['files'], meta
for f, rec in meta['files'].items():
    assert os.path.getsize(os.path.join(d, f)) == rec['size'], (f, rec)
print(name)
PYEOF
}

# exec: $! is the trainer itself, so kill -9 hits it (not a wrapping subshell).
run_train() {
  exec "$SHADEGAN" train --run-dir r --curriculum "$TINY" --stop-step 12 --ckpt-every 1 --keep 2 \
    --sample-every 0 --threads 1 >> train.log 2>&1
}

for delay in 4 6 5; do
  prev=$(cat r/train/LATEST 2>/dev/null || true)
  (run_train) &
  pid=$!
  # Wait for this attempt's first checkpoint, then a little more.
  for _ in $(seq 300); do [ "$(cat r/train/LATEST 2>/dev/null || true)" != "$prev" ] && break; sleep 0.1; done
  sleep "0.$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  ! kill -0 "$pid" 2>/dev/null || fail "the trainer survived kill -9"
  [ -e r/train/LATEST ] || fail "no LATEST after the first checkpoint"
  check_latest "delay 0.$delay" >/dev/null
done
before=$(check_latest final)
expect_exit 0 "$SHADEGAN" train --run-dir r --curriculum "$TINY" --stop-step 16 --ckpt-every 4 --keep 2 \
  --sample-every 0 --threads 1
expect_out "resuming from .*$before"
[ "$(cat r/train/LATEST)" = step-0000016 ] || fail "did not reach step 16"

# A truncated newest checkpoint: rejected with the reason, the previous one used.
g=r/train/ckpt/step-0000016/generator.pth
truncate -s $(( $(stat -c %s "$g") / 2 )) "$g"
expect_exit 0 "$SHADEGAN" train --run-dir r --curriculum "$TINY" --stop-step 16 --ckpt-every 4 --keep 2 \
  --sample-every 0 --threads 1
expect_out "checkpoint step-0000016 rejected: .*generator.pth: [0-9]+ bytes, meta.json records [0-9]+ \\(truncated or overwritten\\); using step-0000012 instead"
expect_out "resuming from .*step-0000012"
check_latest "after fallback" | grep -q step-0000016 || fail "the run did not rewrite step 16"
# Forced kills inside a checkpoint write (the fault point of core/atomic_file.cpp: SIGKILL once N
# bytes in all went through write_file_atomic), at fractions of one checkpoint's bytes: inside
# the first checkpoint (no LATEST may appear, the partial must never be trusted) and inside the
# second (LATEST stays at step 1). Each time the next run resumes from LATEST, or starts afresh.
rm -rf r/train
expect_exit 0 "$SHADEGAN" train --run-dir r --curriculum "$TINY" --stop-step 1 --ckpt-every 1 --sample-every 0 --threads 1
CK=$(( $(cat r/train/ckpt/step-0000001/* | wc -c) + $(wc -c < r/train/LATEST) ))
for pct in 50 150; do
  rm -rf r/train
  n=$(( CK * pct / 100 ))
  set +e
  SG_FAULT_KILL_AFTER_BYTES=$n "$SHADEGAN" train --run-dir r --curriculum "$TINY" --stop-step 3 --ckpt-every 1 \
    --sample-every 0 --threads 1 > fault.log 2>&1
  code=$?
  set -e
  [ "$code" -eq 137 ] || fail "the fault point at $n bytes ($pct% of a checkpoint) did not kill the trainer (exit $code): $(tail -3 fault.log)"
  ls -a r/train/ckpt | grep -q '^\.tmp-step-' || fail "no partial checkpoint left at $pct%: the kill was not inside a write"
  if [ "$pct" -lt 100 ]; then
    [ ! -e r/train/LATEST ] || fail "LATEST exists after a kill inside the first checkpoint ($pct%)"
    [ ! -e r/train/ckpt/step-0000001 ] || fail "a partial first checkpoint took its final name ($pct%)"
  else
    [ "$(cat r/train/LATEST)" = step-0000001 ] || fail "LATEST is '$(cat r/train/LATEST)' after a kill inside the second checkpoint"
    check_latest "fault at $pct%" >/dev/null
  fi
  expect_exit 0 "$SHADEGAN" train --run-dir r --curriculum "$TINY" --stop-step 3 --ckpt-every 1 --sample-every 0 --threads 1
  if [ "$pct" -gt 100 ]; then expect_out "resuming from .*step-0000001"; else expect_no_out "resuming from"; fi
  expect_out "removed .*\.tmp-step-.* which is gone"
  [ "$(cat r/train/LATEST)" = step-0000003 ] || fail "did not finish after the fault at $pct%"
done
echo ok
