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

}  // namespace sg::weights::testing
