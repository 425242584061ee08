#include "weights/ema.h"

#include <doctest/doctest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "weights/state_dict.h"
#include "weights_test_util.h"

using namespace sg::weights;
using sg::weights::testing::python;
using sg::weights::testing::Small;
using sg::weights::testing::scratch;
using sg::weights::testing::value;

namespace {


const std::vector<std::pair<std::string, std::vector<int64_t>>> kParams = {
    {"lin.weight", {4, 3}}, {"lin.bias", {4}}, {"block.conv.weight", {2, 4, 3, 3}},
    {"block.conv.bias", {2}}, {"head.weight", {1, 4}}};

}  // namespace

TEST_CASE("a pickled torch_ema object reads with decay, num_updates, shadows and collected params") {
  const std::string dir = scratch("ema_python");
  REQUIRE(python({"make-ema", dir + "/ema.pth", "8990"}, dir + "/py.log") == 0);
  const EmaState ema = read_ema(dir + "/ema.pth");
  CHECK(ema.decay == 0.999);
  CHECK(ema.num_updates == 8990);
  REQUIRE(ema.shadow_params.size() == kParams.size());
  for (size_t k = 0; k < kParams.size(); ++k) {
    CAPTURE(kParams[k].first);
    CHECK(torch::equal(ema.shadow_params[k], value(kParams[k].first, kParams[k].second, at::kFloat) * 2));
  }
  REQUIRE(ema.collected_params.size() == 2);
  CHECK(torch::equal(ema.collected_params[1], ema.shadow_params[1]));

  // Mapped onto the module in parameters() order.
  Small m;
  load_ema_into(m, ema, dir + "/ema.pth");
  CHECK(torch::equal(m.block->conv->weight, value("block.conv.weight", {2, 4, 3, 3}, at::kFloat) * 2));
  CHECK(torch::equal(m.head->weight, value("head.weight", {1, 4}, at::kFloat) * 2));
  CHECK(torch::equal(m.block->running, torch::zeros({2})));  // buffers untouched

  // use_num_updates=False pickles num_updates as None.
  REQUIRE(python({"make-ema", dir + "/ema_none.pth", "none"}, dir + "/py.log") == 0);
  CHECK(read_ema(dir + "/ema_none.pth").num_updates == -1);
}

TEST_CASE("write_ema -> Python's documented conversion restores a torch_ema object, and back") {
  EmaState ema;
  ema.decay = 0.9999;
  ema.num_updates = 1234;
  for (const auto& [name, shape] : kParams) ema.shadow_params.push_back(value(name, shape, at::kFloat) * 3);
  ema.collected_params.push_back(value("c", {2, 2}, at::kFloat));
  const std::string dir = scratch("ema_ours");
  write_ema(dir + "/ema.pth", ema);
  CHECK(python({"check-ema", dir + "/ema.pth"}, dir + "/py.log") == 0);

  const EmaState back = read_ema(dir + "/ema.pth");
  CHECK(back.decay == 0.9999);
  CHECK(back.num_updates == 1234);
  REQUIRE(back.shadow_params.size() == ema.shadow_params.size());
  for (size_t k = 0; k < back.shadow_params.size(); ++k)
    CHECK(torch::equal(back.shadow_params[k], ema.shadow_params[k]));
  REQUIRE(back.collected_params.size() == 1);
  CHECK(torch::equal(back.collected_params[0], ema.collected_params[0]));

  ema.num_updates = -1;
  write_ema(dir + "/ema_none.pth", ema);
  CHECK(read_ema(dir + "/ema_none.pth").num_updates == -1);
}

TEST_CASE("EMA shadows that do not fit the model list every offending position") {
  EmaState ema;
  ema.decay = 0.999;
  for (const auto& [name, shape] : kParams) ema.shadow_params.push_back(torch::zeros(shape));
  ema.shadow_params[1] = torch::zeros({5});
  ema.shadow_params.push_back(torch::zeros({7, 7}));
  Small m;
  const at::Tensor before = m.lin->weight.clone();
  std::string msg;
  try {
    load_ema_into(m, ema, "run/ema.pth");
  } catch (const sg::FormatError& e) {
    msg = e.what();
  }
  CHECK(msg ==
        "run/ema.pth: EMA shadows do not match the model (6 in the file, 5 parameters in the model):\n"
        "  misshapen shadow_params[1] for lin.bias: file (5,) vs model (4,)\n"
        "  unexpected shadow_params[5] (7, 7) (the model has 5 parameters)");
  CHECK(torch::equal(m.lin->weight, before));  // nothing copied

  ema.shadow_params.resize(3);
  ema.shadow_params[1] = torch::zeros({4});
  try {
    load_ema_into(m, ema, "run/ema.pth");
    FAIL("no error");
  } catch (const sg::FormatError& e) {
    CHECK(std::string(e.what()) ==
          "run/ema.pth: EMA shadows do not match the model (3 in the file, 5 parameters in the model):\n"
          "  missing shadow_params[3] for block.conv.bias (2,)\n"
          "  missing shadow_params[4] for head.weight (1, 4)");
  }
}

TEST_CASE("a state dict is not an EMA") {
  const std::string dir = scratch("ema_wrong");
  write_state_dict(dir + "/sd.pth", {{"w", torch::ones({2})}});
  try {
    read_ema(dir + "/sd.pth");
    FAIL("no error");
  } catch (const sg::FormatError& e) {
    CHECK(std::string(e.what()) == dir + "/sd.pth: expected a torch_ema ExponentialMovingAverage (or a dict "
                                         "with decay, num_updates, shadow_params), found a dict of 1");
  }
}
