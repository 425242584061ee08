# shadegan render end to end on the parity fixture's generator (an official-layout generator.pth
# named with its curriculum): fan-out tasks write one directory per seed, a rerun skips them,
# and bad input is refused before any work with a clear message.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
FIX="$SG_SOURCE_DIR/tests/fixtures/parity"
PTH="$FIX/gen_celeba_view_seed0.pth"
# The fixture's generator is CelebA_ShadeGAN_view with a surface net of nf 8.
{ echo "surf_nf = 8"; cat "$SG_SOURCE_DIR/configs/CelebA_ShadeGAN_view.toml"; } > cur.toml
cat > prior.toml <<'TOML'
mean = [0.1, 0.3, 0.2, 0.1]
cov = [[0.05, 0, 0, 0], [0, 0.05, 0, 0], [0, 0, 0.05, 0], [0, 0, 0, 0.05]]
TOML
common=(--checkpoint "$PTH" --curriculum cur.toml --weights raw --light-prior prior.toml
        --image-size 8 --num-steps 4 --seeds 0-2 --seeds-per-task 2 --rotate)

expect_exit 0 "$SHADEGAN" render "${common[@]}" --task 1 --out out
[ -d out/seed00002 ] && [ ! -e out/seed00000 ] || fail "task 1 should render seed 2 only: $(ls out)"
expect_exit 0 "$SHADEGAN" render "${common[@]}" --task 0 --out out
for s in 0 1 2; do
  d=out/seed0000$s
  [ -s $d/yaw4_light0_rgb.png ] && [ -s $d/yaw0_light0_depth_pred.png ] && [ -s $d/sheet.png ] \
    && [ -s $d/rotation.gif ] && [ -s $d/render.json ] || fail "seed $s incomplete: $(ls $d)"
done
head -c 6 out/seed00000/rotation.gif | grep -q GIF89a || fail "rotation.gif is not a GIF"
[ -s out/render-task0000.json ] && [ -s out/render-task0001.json ] || fail "task records missing"
# Rerun of everything: nothing to do.
stamp=$(stat -c %Y.%N out/seed00001/render.json)
expect_exit 0 "$SHADEGAN" render "${common[@]}" --out out
expect_out "3 seed\(s\) already done"
[ "$(stat -c %Y.%N out/seed00001/render.json)" = "$stamp" ] || fail "a finished seed was rendered again"
# Another psi: every seed is redone.
expect_exit 0 "$SHADEGAN" render "${common[@]}" --task 0 --psi 0.7 --out out
expect_no_out "already done"

# A stop signal (Slurm's USR1 ahead of a time limit) lets the seed in hand finish, then exits 75
# (preempted): finished seeds stay, and the rerun renders only the rest. Ten seeds of about a
# second each leave the signal, sent once seed 0 is written, well before the last.
"$SHADEGAN" render "${common[@]}" --seeds 0-9 --out stop >stop.log 2>&1 &
pid=$!
wait_for_file stop/seed00000/render.json
kill -USR1 $pid
set +e; wait $pid; code=$?; set -e
[ "$code" -eq 75 ] || fail "render exited $code after SIGUSR1, expected 75: $(tail -5 stop.log)"
grep -Eq "render: stopped on signal 10 with [0-9] of 10 seed\(s\) done" stop.log || fail "no stop message: $(tail -5 stop.log)"
[ -s stop/seed00000/render.json ] && [ ! -e stop/seed00009 ] || fail "stopped render left $(ls stop)"
kept=$(ls -d stop/seed0000? | wc -l)
expect_exit 0 "$SHADEGAN" render "${common[@]}" --seeds 0-9 --out stop
expect_out "$kept seed\(s\) already done"
[ -s stop/seed00009/render.json ] || fail "the rerun did not finish the seeds"

# Bad input, each before any work (no output directory appears).
expect_exit 2 "$SHADEGAN" render "${common[@]}" --image-size 0 --out bad1
expect_out "image_size must be >= 1"
[ ! -e bad1 ] || fail "output written despite a bad image size"
expect_exit 1 "$SHADEGAN" render --checkpoint nowhere/generator.pth --curriculum cur.toml --out bad2
expect_out "nowhere/generator.pth"
# The curriculum's surface net (nf 16) does not match the weights (nf 8).
expect_exit 1 "$SHADEGAN" render --checkpoint "$PTH" --curriculum "$SG_SOURCE_DIR/configs/CelebA_ShadeGAN_view.toml" \
  --weights raw --relight --out bad3
expect_out "surfacenet"
# ema weights asked for, none beside the file.
expect_exit 1 "$SHADEGAN" render --checkpoint "$PTH" --curriculum cur.toml --relight --out bad4
expect_out "ema.pth"
expect_exit 2 "$SHADEGAN" render "${common[@]}" --task 7 --out bad5
expect_out "task 7 out of range"
expect_exit 2 "$SHADEGAN" render "${common[@]}" --image-size 100000 --out bad6
expect_out "budget"
[ ! -e bad3 ] && [ ! -e bad6 ] || fail "output written despite bad input"
echo "render_cli_test: ok"
