#pragma once
// Shared by tests/weights/*_test.cpp: a scratch directory, the Python helper (weights_py.py, run
// with /usr/bin/python3, which has torch) and the value rule both sides compute.
#include <doctest/doctest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/subprocess.h"

namespace sg::weights::testing {

inline std::string scratch(const std::string& name) {
  const char* base = std::getenv("SG_TEST_TMP");
  const std::filesystem::path dir = std::filesystem::path(base ? base : "/tmp") / "weights" / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

// Runs tests/weights/weights_py.py with `args`; returns the exit code (output goes to `log`).
inline int python(const std::vector<std::string>& args, const std::string& log) {
  ProcessSpec spec;
  spec.argv = {"/usr/bin/python3", std::string(SG_SOURCE_DIR) + "/tests/weights/weights_py.py"};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.output_path = log;
  spec.env = {{"OMP_NUM_THREADS", "1"}};
  return run_process(spec).code;
}

// weights_py.py's value(): ((arange(n) * 7 + len(key) * 13) % 101 - 50) / 8, then cast.
inline at::Tensor value(const std::string& key, std::vector<int64_t> shape, at::ScalarType dtype) {
  int64_t n = 1;
  for (auto s : shape) n *= s;
  auto v = (torch::arange(n, torch::kFloat64) * 7 + static_cast<double>(key.size() * 13)).remainder(101)
               .sub(50).div(8).reshape(shape);
  return dtype == at::kBool ? v.gt(0) : v.to(dtype);
}

// weights_py.py's small_module(), with the same names and order: parameters lin.weight,
// lin.bias, block.conv.weight, block.conv.bias, head.weight and the buffer block.running
// (which torch_ema does not track).
struct Block : torch::nn::Module {
  Block() {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(4, 2, 3)));
    running = register_buffer("running", torch::zeros({2}));
  }
  torch::nn::Conv2d conv{nullptr};
  torch::Tensor running;
};
struct Small : torch::nn::Module {
  Small() {
    lin = register_module("lin", torch::nn::Linear(3, 4));
    block = register_module("block", std::make_shared<Block>());
    head = register_module("head", torch::nn::Linear(torch::nn::LinearOptions(4, 1).bias(false)));
  }
  torch::nn::Linear lin{nullptr}, head{nullptr};
  std::shared_ptr<Block> block;
};

}  // namespace sg::weights::testing
