#include "weights/state_dict.h"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include <fstream>
#include <map>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "weights/pickle_value.h"
#include "weights_test_util.h"

using namespace sg::weights;
using sg::weights::testing::python;
using sg::weights::testing::Small;
using sg::weights::testing::scratch;
using sg::weights::testing::value;

namespace {

// The parity fixture, copied from ../shared/fixtures/parity into tests/fixtures/parity.
std::string fixture_dir() { return std::string(SG_SOURCE_DIR) + "/tests/fixtures/parity"; }

std::vector<int64_t> parse_shape(std::string s) {  // "(256, 3)" / "(256,)" / "()"
  std::vector<int64_t> out;
  for (char& c : s)
    if (c == '(' || c == ')' || c == ',') c = ' ';
  std::istringstream in(s);
  int64_t v;
  while (in >> v) out.push_back(v);
  return out;
}


const std::vector<std::string> kSmallKeys = {"lin.weight", "lin.bias", "block.running",
                                             "block.conv.weight", "block.conv.bias", "head.weight"};

}  // namespace

TEST_CASE("the reference fixture generator reads back with every key, shape, dtype and value") {
  const std::string pth = fixture_dir() + "/gen_celeba_view_seed0.pth";
  const StateDict sd = read_state_dict(pth);

  std::ifstream keys(fixture_dir() + "/keys.txt");
  REQUIRE(keys);
  std::string line;
  size_t n = 0;
  int64_t total = 0;
  // The first block lists the fixture's tensors; a blank line ends it (the official model follows).
  while (std::getline(keys, line)) {
    if (line.empty()) break;
    if (line[0] == '#') continue;
    std::istringstream fields(line);
    std::string key, shape, dtype;
    std::getline(fields, key, '\t');
    std::getline(fields, shape, '\t');
    std::getline(fields, dtype, '\t');
    REQUIRE(n < sd.size());
    CHECK(sd[n].first == key);
    CHECK(sd[n].second.sizes().vec() == parse_shape(shape));
    CHECK(std::string(dtype_name(sd[n].second.scalar_type())) == dtype);
    total += sd[n].second.numel();
    ++n;
  }
  CHECK(n == 74);
  CHECK(sd.size() == 74);
  CHECK(total == 3496876);  // keys.txt's header

  // Values: Python's float64 sum and first element of every tensor.
  const std::string dir = scratch("fixture");
  REQUIRE(python({"sums", pth, dir + "/sums.txt"}, dir + "/py.log") == 0);
  std::ifstream sums(dir + "/sums.txt");
  size_t k = 0;
  while (std::getline(sums, line)) {
    std::istringstream fields(line);
    std::string key;
    double sum = 0, first = 0;
    fields >> key >> sum >> first;
    REQUIRE(k < sd.size());
    CHECK(sd[k].first == key);
    const auto flat = sd[k].second.to(torch::kFloat64).flatten();
    CHECK(flat.sum().item<double>() == doctest::Approx(sum).epsilon(1e-12));
    CHECK(flat[0].item<double>() == first);
    ++k;
  }
  CHECK(k == 74);
}

TEST_CASE("a Python state dict reads back with equal values, dtypes, shapes, strides and sharing") {
  const std::string dir = scratch("python_sd");
  REQUIRE(python({"make-state-dict", dir + "/sd.pth"}, dir + "/py.log") == 0);
  const StateDict sd = read_state_dict(dir + "/sd.pth");
  std::map<std::string, at::Tensor> by;
  std::vector<std::string> order;
  for (const auto& [k, t] : sd) by[k] = t, order.push_back(k);
  CHECK(order == std::vector<std::string>{"net.0.weight", "net.0.bias", "double", "long", "int", "half",
                                          "bf16", "flag", "bytes", "scalar", "empty", "param",
                                          "transposed", "shared_a", "shared_b"});
  struct Case { const char* key; std::vector<int64_t> shape; at::ScalarType dtype; };
  for (const Case& c : std::vector<Case>{{"net.0.weight", {4, 3}, at::kFloat}, {"net.0.bias", {4}, at::kFloat},
                                         {"double", {2, 5}, at::kDouble}, {"long", {6}, at::kLong},
                                         {"int", {3, 2}, at::kInt}, {"half", {7}, at::kHalf},
                                         {"bf16", {2, 2, 2}, at::kBFloat16}, {"flag", {5}, at::kBool},
                                         {"bytes", {4}, at::kByte}, {"scalar", {}, at::kFloat},
                                         {"empty", {0, 3}, at::kFloat}, {"param", {3, 4}, at::kFloat}}) {
    CAPTURE(c.key);
    const at::Tensor& t = by.at(c.key);
    CHECK(std::string(dtype_name(t.scalar_type())) == dtype_name(c.dtype));
    CHECK(t.sizes().vec() == c.shape);
    CHECK(torch::equal(t, value(c.key, c.shape, c.dtype)));
  }
  const at::Tensor tr = by.at("transposed");
  CHECK(tr.sizes().vec() == std::vector<int64_t>{3, 5});
  CHECK(tr.strides().vec() == std::vector<int64_t>{1, 3});
  CHECK(torch::equal(tr, value("transposed", {5, 3}, at::kFloat).t()));
  const at::Tensor base = value("shared", {20}, at::kFloat);
  CHECK(torch::equal(by.at("shared_a"), base.slice(0, 2, 8).view({2, 3})));
  CHECK(torch::equal(by.at("shared_b"), base.slice(0, 10, 20, 2)));
  // One storage, as in Python: a write through one view shows in the other's base.
  CHECK(by.at("shared_a").storage().is_alias_of(by.at("shared_b").storage()));
}

TEST_CASE("a pickled whole nn.Module reads as its state dict") {
  const std::string dir = scratch("python_module");
  REQUIRE(python({"make-module", dir + "/m.pth"}, dir + "/py.log") == 0);
  const StateDict sd = read_state_dict(dir + "/m.pth");
  REQUIRE(sd.size() == kSmallKeys.size());
  // Python's state_dict() order: own parameters, own buffers, then children.
  const std::vector<std::string>& want = kSmallKeys;
  for (size_t k = 0; k < sd.size(); ++k) {
    CHECK(sd[k].first == want[k]);
    CHECK(torch::equal(sd[k].second, value(want[k], sd[k].second.sizes().vec(), at::kFloat)));
  }
}

TEST_CASE("a pickled module whose _modules hold the module itself is a FormatError naming the key path") {
  const std::string dir = scratch("cyclic_module");
  REQUIRE(python({"make-cyclic-module", dir + "/m.pth"}, dir + "/py.log") == 0);
  // flatten_module followed block -> loop -> block -> ... until the stack overflowed.
  const std::string outcome = sg::weights::testing::in_child([&] { read_state_dict(dir + "/m.pth"); });
  CHECK(outcome == dir + "/m.pth: module 'block.loop' is the top-level module again (a cycle through "
                         "_modules)");
}

TEST_CASE("a pickled module sharing submodules along 2^39 paths is refused, not flattened forever") {
  const std::string dir = scratch("diamond_module");
  REQUIRE(python({"make-diamond-module", dir + "/m.pth"}, dir + "/py.log") == 0);
  const std::string outcome = sg::weights::testing::in_child([&] { read_state_dict(dir + "/m.pth"); });
  CHECK(outcome == dir + "/m.pth: the pickled module flattens to more than 256 MiB of names and "
                         "tensors (a submodule shared along very many paths?)");
}

TEST_CASE("modules chained 100000 deep after they were built fail at the depth limit") {
  // 100000 modules whose _modules dicts are memoized empty, then filled (module i+1 into the
  // dict of module i) once every module is built: the unpickler's depth count never sees the
  // chain, flatten_module recursed 100000 levels with ever longer key paths.
  using sg::weights::testing::le32;
  using sg::weights::testing::pickled_str;
  const uint32_t n = 100000;
  std::string p("\x80\x02", 2);
  for (uint32_t i = 0; i < n; ++i)
    p += "c__main__\nM\n)\x81r" + le32(2 * i) + "}(" + pickled_str("_parameters") + "}" +
         pickled_str("_modules") + "}r" + le32(2 * i + 1) + "ub0";
  for (uint32_t i = 0; i + 1 < n; ++i) p += "j" + le32(2 * i + 1) + pickled_str("c") + "j" + le32(2 * i + 2) + "s0";
  p += "j" + le32(0) + ".";
  const std::string file = sg::weights::testing::legacy_file(p);
  const std::string outcome = sg::weights::testing::in_child([&] { parse_state_dict(file, "crafted.pth"); });
  const std::string want = "crafted.pth: modules nested deeper than 1000 levels (at 'c.c.c.c.";
  CHECK(outcome.substr(0, want.size()) == want);
}

TEST_CASE("ours written -> Python torch.load + load_state_dict(strict=True) -> equal values") {
  Small m;
  {
    torch::NoGradGuard g;
    for (auto& [k, t] : state_dict_of(m)) t.copy_(value(k, t.sizes().vec(), at::kFloat) * 2.5);
  }
  std::vector<std::string> names;
  for (const auto& [k, t] : state_dict_of(m)) names.push_back(k);
  CHECK(names == kSmallKeys);  // own buffers before children: Python's order
  const std::string dir = scratch("ours_to_python");
  write_state_dict(dir + "/ours.pth", state_dict_of(m));
  CHECK(python({"check-state-dict", dir + "/ours.pth", "2.5"}, dir + "/py.log") == 0);
  // And it reads back with our reader, equal.
  const StateDict back = read_state_dict(dir + "/ours.pth");
  const StateDict orig = state_dict_of(m);
  REQUIRE(back.size() == orig.size());
  for (size_t k = 0; k < back.size(); ++k) {
    CHECK(back[k].first == orig[k].first);
    CHECK(torch::equal(back[k].second, orig[k].second));
  }
}

TEST_CASE("load_into copies values and converts dtypes") {
  Small m;
  StateDict sd;
  for (const auto& k : kSmallKeys) {
    const auto shape = find_tensor(state_dict_of(m), k)->sizes().vec();
    sd.emplace_back(k, value(k, shape, at::kDouble));  // float64 in the file, float32 in the model
  }
  load_into(m, sd, "sd.pth");
  CHECK(std::string(dtype_name(m.lin->weight.scalar_type())) == "float32");
  CHECK(torch::equal(m.lin->weight, value("lin.weight", {4, 3}, at::kFloat)));
  CHECK(torch::equal(m.block->running, value("block.running", {2}, at::kFloat)));
  CHECK(torch::equal(m.block->conv->weight, value("block.conv.weight", {2, 4, 3, 3}, at::kFloat)));
  CHECK(m.lin->weight.requires_grad());  // still a trainable parameter
}

TEST_CASE("missing, unexpected and misshapen keys are one error listing every key with shapes") {
  Small m;
  StateDict sd = state_dict_of(m);
  const at::Tensor before = m.head->weight.clone();
  sd.erase(sd.begin() + 1);                                       // lin.bias missing
  sd.erase(sd.begin() + 1);                                       // block.running missing
  sd.emplace_back("extra.weight", torch::zeros({3, 3}));          // unexpected
  sd[1].second = torch::zeros({2, 4, 5, 5});                      // block.conv.weight misshapen
  for (auto& [k, t] : sd)
    if (k == "head.weight") t = torch::ones({1, 4});
  std::string msg;
  try {
    load_into(m, sd, "ckpt/generator.pth");
  } catch (const sg::FormatError& e) {
    msg = e.what();
  }
  CHECK(msg ==
        "ckpt/generator.pth: weights do not match the model (2 missing, 1 unexpected, 1 misshapen keys):\n"
        "  missing: lin.bias (4,)\n"
        "  missing: block.running (2,)\n"
        "  unexpected: extra.weight (3, 3)\n"
        "  misshapen: block.conv.weight: file (2, 4, 5, 5) vs model (2, 4, 3, 3)");
  CHECK(torch::equal(m.head->weight, before));  // nothing copied on error

  // Non-strict (the reference loads discriminators so): missing and extra keys pass, shapes do not.
  try {
    load_into(m, sd, "ckpt/discriminator.pth", /*strict=*/false);
    FAIL("no error");
  } catch (const sg::FormatError& e) {
    CHECK(std::string(e.what()).find("misshapen: block.conv.weight: file (2, 4, 5, 5)") != std::string::npos);
  }
  sd[1].second = torch::zeros({2, 4, 3, 3});
  load_into(m, sd, "ckpt/discriminator.pth", /*strict=*/false);
  CHECK(torch::equal(m.head->weight, torch::ones({1, 4})));
  CHECK(torch::equal(m.block->conv->weight, torch::zeros({2, 4, 3, 3})));
}

TEST_CASE("the fixture generator's state dict survives our write -> our read unchanged") {
  const StateDict sd = read_state_dict(fixture_dir() + "/gen_celeba_view_seed0.pth");
  const std::string dir = scratch("fixture_rewrite");
  write_state_dict(dir + "/g.pth", sd);
  const StateDict back = read_state_dict(dir + "/g.pth");
  REQUIRE(back.size() == sd.size());
  for (size_t k = 0; k < sd.size(); ++k) {
    CHECK(back[k].first == sd[k].first);
    CHECK(torch::equal(back[k].second, sd[k].second));
  }
}
