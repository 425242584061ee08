#include "data/light_prior.h"

#include <fmt/format.h>

#include <cmath>

#include "config/toml_util.h"
#include "core/error.h"

namespace sg::data {

LightPrior default_light_prior() {
  LightPrior p;
  p.mean = {-0.1, 0.3, 0.0, 0.25};
  const std::array<double, 4> sd = {0.12, 0.15, 0.45, 0.3};
  const double corr_ad = -0.5;
  for (int i = 0; i < 4; ++i) p.cov[i * 4 + i] = sd[i] * sd[i];
  p.cov[0 * 4 + 1] = p.cov[1 * 4 + 0] = corr_ad * sd[0] * sd[1];
  return p;
}

std::array<double, 16> cholesky4(const std::array<double, 16>& cov) {
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < i; ++j)
      if (std::fabs(cov[i * 4 + j] - cov[j * 4 + i]) > 1e-9 * (1 + std::fabs(cov[i * 4 + j])))
        throw FormatError("light prior covariance is not symmetric");
  std::array<double, 16> L{};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j <= i; ++j) {
      double s = cov[i * 4 + j];
      for (int k = 0; k < j; ++k) s -= L[i * 4 + k] * L[j * 4 + k];
      if (i == j) {
        if (s <= 0) throw FormatError("light prior covariance is not positive definite");
        L[i * 4 + i] = std::sqrt(s);
      } else {
        L[i * 4 + j] = s / L[j * 4 + j];
      }
    }
  return L;
}

std::array<double, 4> sample_light(const LightPrior& prior, Rng& rng) {
  const auto L = cholesky4(prior.cov);
  double eps[4];
  for (double& e : eps) e = rng.normal();
  std::array<double, 4> l = prior.mean;
  for (int i = 0; i < 4; ++i)
    for (int k = 0; k <= i; ++k) l[i] += L[i * 4 + k] * eps[k];
  return l;
}

std::string light_prior_toml(const LightPrior& p, const std::string& comment) {
  std::string s = "# " + comment + "\n# Components (a, d, dx, dy), spec §2.4: k_a = a/2 + 0.5, k_d = d/2 + 0.5, "
                  "L = normalize(dx, dy, 1).\n";
  s += fmt::format("mean = [{:.17g}, {:.17g}, {:.17g}, {:.17g}]\ncov = [\n", p.mean[0], p.mean[1],
                   p.mean[2], p.mean[3]);
  for (int i = 0; i < 4; ++i)
    s += fmt::format("  [{:.17g}, {:.17g}, {:.17g}, {:.17g}],\n", p.cov[i * 4], p.cov[i * 4 + 1],
                     p.cov[i * 4 + 2], p.cov[i * 4 + 3]);
  return s + "]\n";
}

LightPrior read_light_prior_toml(const std::string& path) {
  const toml::table t = config::parse_toml_file(path);
  config::check_keys(path, t, {"mean", "cov"}, "");
  auto numbers = [&](const toml::node* n, const std::string& key, size_t want) {
    std::vector<double> out;
    const toml::array* a = n ? n->as_array() : nullptr;
    if (!a || a->size() != want)
      throw ConfigError(path + ": " + key + ": expected an array of " + std::to_string(want) + " numbers");
    for (const auto& e : *a) {
      if (auto v = e.value<double>()) out.push_back(*v);
      else config::fail_at(path, e, key, "expected a number");
    }
    return out;
  };
  if (!t.get("mean") || !t.get("cov")) throw ConfigError(path + ": a light prior needs both 'mean' and 'cov'");
  LightPrior p;
  const auto m = numbers(t.get("mean"), "mean", 4);
  std::copy(m.begin(), m.end(), p.mean.begin());
  const toml::array* rows = t.get("cov")->as_array();
  if (!rows || rows->size() != 4) config::fail_at(path, *t.get("cov"), "cov", "expected 4 rows of 4 numbers");
  for (size_t i = 0; i < 4; ++i) {
    const auto r = numbers(rows->get(i), "cov[" + std::to_string(i) + "]", 4);
    std::copy(r.begin(), r.end(), p.cov.begin() + i * 4);
  }
  try {
    cholesky4(p.cov);
  } catch (const FormatError& e) {
    throw ConfigError(path + ": cov: " + e.what());
  }
  return p;
}

}  // namespace sg::data
