// Our exported weights in Python: a full-size CelebA_ShadeGAN_view generator written with
// write_state_dict(state_dict_of(...)) must load with Debian's python3-torch, carry spec §11's
// keys (in order) and shapes and our values, and be accepted with load_state_dict(strict=True)
// by a module with the reference's layout (export_python_check.py holds the Python side).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <torch/utils.h>

#include "core/subprocess.h"
#include "model/generator.h"
#include "weights/state_dict.h"
// doctest last: its CHECK must win over glog's, which LibTorch headers define.
#include <doctest/doctest.h>

namespace fs = std::filesystem;

TEST_CASE("an exported generator loads in Python with the reference's keys, shapes and values") {
  torch::manual_seed(5);
  sg::model::Generator g(sg::model::GeneratorConfig{});
  const auto sd = sg::weights::state_dict_of(*g);
  int64_t n = 0;
  for (const auto& [k, t] : sd) n += t.numel();
  REQUIRE(n == 7068628);

  const char* tmp = std::getenv("SG_TEST_TMP");
  const fs::path dir = fs::path(tmp ? tmp : "/tmp") / "model-export-python";
  fs::create_directories(dir);
  const fs::path pt = dir / "generator.pt", sums = dir / "checksums.txt",
                 log = dir / "python.log";
  sg::weights::write_state_dict(pt.string(), sd);

  // Per tensor: float64 sum, sum of squares, first and last element (exact, %.17g).
  {
    std::ofstream f(sums);
    char line[512];
    for (const auto& [k, t] : sd) {
      const auto d = t.to(at::kDouble).contiguous().reshape({-1});
      std::snprintf(line, sizeof line, "%s %.17g %.17g %.17g %.17g\n", k.c_str(),
                    d.sum().item<double>(), (d * d).sum().item<double>(), d[0].item<double>(),
                    d[-1].item<double>());
      f << line;
    }
    REQUIRE(f.good());
  }

  fs::remove(log);
  sg::ProcessSpec spec;
  spec.argv = {"/usr/bin/python3",
               std::string(SG_SOURCE_DIR) + "/tests/model/export_python_check.py", pt.string(),
               sums.string()};
  spec.output_path = log.string();
  const auto exit = sg::run_process(spec);
  std::ifstream in(log);
  std::stringstream out;
  out << in.rdbuf();
  INFO("python says:\n" << out.str());
  CHECK(exit.code == 0);
  CHECK(out.str().find("74 tensors, 7068628 parameters, 74 checksums compared, 0 errors") !=
        std::string::npos);
}
