#pragma once
// The light prior of spec §2.4: a 4-D Gaussian over l = (a, d, dx, dy), sampled as
// mean + chol(cov) ε. The synthetic set draws its lights from one and writes it beside the data
// (TOML here; the torch-loadable {mean, cov} .pth is written by app/synth_cmd.cpp, since data
// must not link LibTorch), so training can use the true prior.
#include <array>
#include <string>

#include "data/rng.h"

namespace sg::data {

struct LightPrior {
  std::array<double, 4> mean{};
  std::array<double, 16> cov{};  // row-major 4x4
};

// The default prior of the synthetic set: k_a = a/2 + 0.5 around 0.45, k_d around 0.65, light
// directions within roughly ±30° of the canonical view, ambient and diffuse anti-correlated
// (a brighter sky goes with a weaker sun).
LightPrior default_light_prior();
// Lower-triangular L with L Lᵀ = cov; FormatError when cov is not symmetric positive definite.
std::array<double, 16> cholesky4(const std::array<double, 16>& cov);
std::array<double, 4> sample_light(const LightPrior& prior, Rng& rng);

std::string light_prior_toml(const LightPrior& prior, const std::string& comment);
// Reads `mean = [4 numbers]` and `cov = [[4] x 4]`; ConfigError naming file:line otherwise.
LightPrior read_light_prior_toml(const std::string& path);

}  // namespace sg::data
