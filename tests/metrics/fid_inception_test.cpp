#include "metrics/fid_inception.h"

#include <ATen/ATen.h>
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <torch/nn/module.h>

#include <cstdlib>
#include <map>

#include "core/error.h"
#include "core/subprocess.h"
#include "metrics/inception_input.h"
#include "weights/state_dict.h"

using namespace sg::metrics;

namespace {

std::string test_dir() {
  const char* t = std::getenv("SG_TEST_TMP");
  const std::string dir = std::string(t ? t : "/tmp") + "/metrics_fid_inception";
  ::mkdir(dir.c_str(), 0755);
  return dir;
}

// Seeded weights and reference outputs from the independent Python network
// (tests/metrics/fid_inception_reference.py), made once per test run.
const std::string& python_reference_dir() {
  static const std::string dir = [] {
    const std::string d = test_dir();
    sg::ProcessSpec spec;
    spec.argv = {"/usr/bin/python3",
                 std::string(SG_SOURCE_DIR) + "/tests/metrics/fid_inception_reference.py", d};
    spec.output_path = d + "/python.log";
    const sg::ProcessExit e = sg::run_process(spec);
    if (e.code != 0) throw std::runtime_error("the Python reference failed; see " + d + "/python.log");
    return d;
  }();
  return dir;
}

at::Tensor get(const sg::weights::StateDict& sd, const std::string& name) {
  const at::Tensor* t = sg::weights::find_tensor(sd, name);
  if (!t) throw std::runtime_error("reference has no " + name);
  return *t;
}

double max_relative(const at::Tensor& got, const at::Tensor& want) {
  return ((got - want).abs().max() / want.abs().max()).item<double>();
}

}  // namespace

TEST_CASE("FID Inception has the parameter names and shapes of pt_inception-2015-12-05") {
  const FidInception net;
  const auto sd = sg::weights::state_dict_of(net.module());
  // 94 BasicConv2d (conv.weight + 4 BatchNorm tensors) and fc.weight, fc.bias.
  CHECK(sd.size() == 94 * 5 + 2);
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& [name, t] : sd) shapes[name] = t.sizes().vec();
  CHECK(shapes["Conv2d_1a_3x3.conv.weight"] == std::vector<int64_t>{32, 3, 3, 3});
  CHECK(shapes["Conv2d_4a_3x3.bn.running_var"] == std::vector<int64_t>{192});
  CHECK(shapes["Mixed_5b.branch1x1.conv.weight"] == std::vector<int64_t>{64, 192, 1, 1});
  CHECK(shapes["Mixed_5b.branch_pool.conv.weight"] == std::vector<int64_t>{32, 192, 1, 1});
  CHECK(shapes["Mixed_6a.branch3x3.conv.weight"] == std::vector<int64_t>{384, 288, 3, 3});
  CHECK(shapes["Mixed_6b.branch7x7_2.conv.weight"] == std::vector<int64_t>{128, 128, 1, 7});
  CHECK(shapes["Mixed_6e.branch7x7dbl_4.conv.weight"] == std::vector<int64_t>{192, 192, 7, 1});
  CHECK(shapes["Mixed_7a.branch3x3_2.conv.weight"] == std::vector<int64_t>{320, 192, 3, 3});
  CHECK(shapes["Mixed_7c.branch3x3dbl_3b.conv.weight"] == std::vector<int64_t>{384, 384, 3, 1});
  CHECK(shapes["Mixed_7c.branch_pool.bn.weight"] == std::vector<int64_t>{192});
  CHECK(shapes["fc.weight"] == std::vector<int64_t>{1008, 2048});
  CHECK(shapes["fc.bias"] == std::vector<int64_t>{1008});
}

// One test case for everything that needs the Python reference: ctest runs each case in its own
// process, and the reference takes a few seconds to make.
TEST_CASE("FID Inception matches the Python reference, state dict key for key and forward in both input modes") {
  const std::string dir = python_reference_dir();
  {
    const auto file = sg::weights::read_state_dict(dir + "/weights.pth");
    const auto ours = sg::weights::state_dict_of(FidInception().module());
    size_t i = 0;
    for (const auto& [name, t] : file) {
      if (name.find("num_batches_tracked") != std::string::npos) continue;
      REQUIRE(i < ours.size());
      CHECK(ours[i].first == name);
      CHECK(ours[i].second.sizes().vec() == t.sizes().vec());
      ++i;
    }
    CHECK(i == ours.size());
  }
  const FidInception net = load_fid_inception(dir + "/weights.pth");
  const auto ref = sg::weights::read_state_dict(dir + "/reference.pth");
  {
    // The same weights in the legacy format (that of the real file) load to the same values.
    const auto zip = sg::weights::read_state_dict(dir + "/weights.pth");
    const auto legacy = sg::weights::read_state_dict(dir + "/weights_legacy.pth");
    REQUIRE(legacy.size() == zip.size());
    for (size_t k = 0; k < zip.size(); ++k) {
      CHECK(legacy[k].first == zip[k].first);
      CHECK(at::equal(legacy[k].second, zip[k].second));
    }
    const InceptionFeatures f = load_fid_inception(dir + "/weights_legacy.pth")
                                    .features(get(ref, "images"), InceptionInput::torch_fidelity);
    CHECK(max_relative(f.pool, get(ref, "pool_tf")) < 1e-4);
  }
  const at::Tensor images = get(ref, "images");
  REQUIRE(bool(images.scalar_type() == at::kByte));

  // torch-fidelity's TF1 resize is reproduced operation for operation: bit-identical.
  const at::Tensor x_tf = inception_preprocess(images, InceptionInput::torch_fidelity);
  CHECK(at::equal(x_tf, get(ref, "input_tf")));
  const at::Tensor x_pt = inception_preprocess(images, InceptionInput::pytorch_fid);
  CHECK((x_pt - get(ref, "input_pt")).abs().max().item<double>() < 1e-6);
  // The two modes really differ (half-pixel offset, /128 vs /127.5 scaling).
  CHECK((x_tf - x_pt).abs().max().item<double>() > 1e-2);

  for (const auto& [mode, tag] : {std::pair{InceptionInput::torch_fidelity, "tf"},
                                  std::pair{InceptionInput::pytorch_fid, "pt"}}) {
    const InceptionFeatures f = net.features(images, mode);
    CHECK(f.pool.sizes().vec() == std::vector<int64_t>{2, 2048});
    CHECK(f.logits_unbiased.sizes().vec() == std::vector<int64_t>{2, 1008});
    CHECK(max_relative(f.pool, get(ref, std::string("pool_") + tag)) < 1e-4);
    CHECK(max_relative(f.logits_unbiased, get(ref, std::string("logits_") + tag)) < 1e-4);
  }
}

TEST_CASE("loading rejects a weights file whose shapes differ, naming the file and key") {
  // A 1000-class fc (torchvision's ImageNet head) is not the FID network's 1008-class one.
  const std::string bad = test_dir() + "/bad_fc.pth";
  sg::weights::write_state_dict(bad, {{"fc.weight", at::zeros({1000, 2048})},
                                      {"fc.bias", at::zeros({1000})}});
  try {
    load_fid_inception(bad);
    FAIL("no error");
  } catch (const sg::FormatError& e) {
    const std::string msg = e.what();
    CHECK(msg.find(bad) != std::string::npos);
    CHECK(msg.find("fc.weight") != std::string::npos);
  }
}

TEST_CASE("TF1 bilinear resize follows TensorFlow 1.x's grid, without half-pixel offsets") {
  // 2 -> 4 along each axis: source coordinates 0, 0.5, 1, 1.5 -> rows [a, (a+b)/2, b, b].
  const at::Tensor in = at::tensor({0.0f, 8.0f, 4.0f, 12.0f}).view({1, 1, 2, 2});
  const at::Tensor out = resize_bilinear_tf1(in, 4, 4);
  const at::Tensor want = at::tensor({0.0f, 4.0f, 8.0f, 8.0f,  //
                                      2.0f, 6.0f, 10.0f, 10.0f,  //
                                      4.0f, 8.0f, 12.0f, 12.0f,  //
                                      4.0f, 8.0f, 12.0f, 12.0f})
                              .view({1, 1, 4, 4});
  CHECK(at::equal(out, want));
  // Same size: the identity.
  const at::Tensor img = at::arange(30, at::kFloat).view({1, 1, 5, 6});
  CHECK(at::equal(resize_bilinear_tf1(img, 5, 6), img));
  // Downsampling 4 -> 2 samples source pixels 0 and 2 exactly (no averaging).
  const at::Tensor row = at::tensor({1.0f, 2.0f, 3.0f, 4.0f}).view({1, 1, 1, 4});
  CHECK(at::equal(resize_bilinear_tf1(row, 1, 2), at::tensor({1.0f, 3.0f}).view({1, 1, 1, 2})));
}

TEST_CASE("input mode names parse, and an unknown one lists the valid names") {
  CHECK(inception_input_from_name("torch-fidelity") == InceptionInput::torch_fidelity);
  CHECK(inception_input_from_name("pytorch-fid") == InceptionInput::pytorch_fid);
  try {
    inception_input_from_name("tf");
    FAIL("no error");
  } catch (const sg::ConfigError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("torch-fidelity") != std::string::npos);
    CHECK(msg.find("pytorch-fid") != std::string::npos);
  }
}

TEST_CASE("missing Inception weights are a clear error naming the file and where it usually is") {
  ::unsetenv("SG_INCEPTION_WEIGHTS");
  try {
    resolve_inception_weights("", "eval.inception_weights");
    FAIL("no error");
  } catch (const sg::ConfigError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("pt_inception-2015-12-05-6726825d.pth") != std::string::npos);
    CHECK(msg.find("~/.cache/torch/hub/checkpoints") != std::string::npos);
    CHECK(msg.find("eval.inception_weights") != std::string::npos);
    CHECK(msg.find("SG_INCEPTION_WEIGHTS") != std::string::npos);
  }
  const std::string missing = test_dir() + "/no-such-weights.pth";
  ::setenv("SG_INCEPTION_WEIGHTS", missing.c_str(), 1);
  try {
    resolve_inception_weights("");
    FAIL("no error");
  } catch (const sg::ConfigError& e) {
    const std::string msg = e.what();
    CHECK(msg.find(missing) != std::string::npos);
    CHECK(msg.find("from SG_INCEPTION_WEIGHTS") != std::string::npos);
  }
  // The config wins over the environment; an existing file is returned as given.
  const std::string present = std::string(SG_SOURCE_DIR) + "/tests/metrics/fid_inception_reference.py";
  CHECK(resolve_inception_weights(present) == present);
  ::setenv("SG_INCEPTION_WEIGHTS", present.c_str(), 1);
  CHECK(resolve_inception_weights("") == present);
  ::unsetenv("SG_INCEPTION_WEIGHTS");
}
