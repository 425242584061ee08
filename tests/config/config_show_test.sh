# shadegan config show: resolved parameters at a step, --set overrides, --json, and exit 2 with a
# file:line message for curriculum mistakes.
source "$SG_SOURCE_DIR/tests/lib/testlib.sh"
CFG="$SG_SOURCE_DIR/configs"

# The issue's acceptance check.
expect_exit 0 "$SHADEGAN" config show "$CFG/CelebA_ShadeGAN_view.toml" --step 100000
expect_out '^img_size +128$'
expect_out '^batch_size +4$'
expect_out '^gen_lr +2e-06$'
expect_out '^disc_lr +2e-05$'
expect_out '^done +false$'
expect_out '^last_upsample_step +100000$'
expect_out '^next_upsample_step +150000$'
expect_out '^fov +12'
expect_out '^surf_track +true$'

# The empty final stage: done, not a crash.
expect_exit 0 "$SHADEGAN" config show "$CFG/BFM_ShadeGAN_view.toml" --step 81000
expect_out '^done +true'
expect_out '^next_upsample_step +inf$'
expect_no_out '^batch_size'

# --json: machine-readable, parsed back by Python.
expect_exit 0 "$SHADEGAN" config show "$CFG/CATS_ShadeGAN.toml" --step 100 --json
python3 - "$OUT" <<'EOF' || fail "--json output is wrong: $OUT"
import json, sys
j = json.loads(sys.argv[1])
assert j["curriculum"] == "CATS_ShadeGAN", j["curriculum"]
assert j["step"] == 100 and j["done"] is False
assert j["stage"]["batch_split"] == 8 and j["stage"]["img_size"] == 64
assert j["globals"]["discriminator"] == "StridedDiscriminator"
assert j["globals"]["betas"] == [0.0, 0.9]
assert j["end_step"] == 30000 and j["stage_starts"] == [0]
assert j["next_upsample_step"] == 30000 and j["last_upsample_step"] == 0
EOF

# --set on a global and on a stage key, shown in the result (a reference curriculum: the demo's
# stages change as it is tuned).
expect_exit 0 "$SHADEGAN" config show "$CFG/CelebA_ShadeGAN_view.toml" --step 35000 \
  --set stages.30000.batch_size=6 --set fov=15 --set sample_dist=uniform
expect_out '^batch_size +6$'
expect_out '^fov +15'
expect_out '^sample_dist +uniform$'
expect_out '^img_size +64$'

# Mistakes: exit 2, a message naming file:line and the key. (Each kind of mistake has its unit
# test in curriculum_test.cpp; every shadegan start costs seconds, so only a few here.)
bad() {  # bad NAME SED-EXPRESSION: a copy of CelebA_ShadeGAN_view edited by sed
  sed -e "$2" "$CFG/CelebA_ShadeGAN_view.toml" >"$WORK/$1.toml"
  cmp -s "$WORK/$1.toml" "$CFG/CelebA_ShadeGAN_view.toml" && fail "sed '$2' changed nothing"
  expect_exit 2 "$SHADEGAN" config show "$WORK/$1.toml"
}
line() { grep -n -- "$2" "$WORK/$1.toml" | head -1 | cut -d: -f1; }

bad unknown 's/^fov = 12/fovv = 12/'
expect_out "unknown.toml:$(line unknown '^fovv'): fovv: unknown key 'fovv' \(did you mean 'fov'\?\)"

bad order 's/^\[stages.30000\]/[stages.80000]/'
expect_out "order.toml:$(line order '^\[stages.70000\]'): stages.70000: expected stages in increasing step order: 70000 comes after 80000"

# Bad overrides and options.
expect_exit 2 "$SHADEGAN" config show "$CFG/demo.toml" --set fov=400
expect_out "--set fov: fov: expected a field of view in degrees in \(0, 180\), got 400"
expect_exit 2 "$SHADEGAN" config show "$CFG/demo.toml" --set fov
expect_out "--set fov: expected key=value"
expect_exit 2 "$SHADEGAN" config show "$WORK/does-not-exist.toml"
expect_out "does-not-exist.toml"
expect_exit 2 "$SHADEGAN" config
echo "ok"
