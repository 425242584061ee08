#include "metrics/kid.h"

#include <ATen/ATen.h>
#include <doctest/doctest.h>

#include "core/error.h"
#include "fixture_features.h"
#include "reference_fixture.h"

namespace fx = sg::metrics::fixture;
using namespace sg::metrics;

namespace {

std::vector<int64_t> row_list(const nlohmann::json& j) { return j.get<std::vector<int64_t>>(); }

}  // namespace

TEST_CASE("KID subsets are the ones the reference drew") {
  const auto& small = fx::indices()["small"]["kid_subset_rows"];
  KidOptions small_options;
  small_options.subsets = 10;
  small_options.subset_size = 200;
  const auto ours = kid_subsets(500, 500, small_options);
  REQUIRE(ours.size() == 10);
  for (size_t s = 0; s < ours.size(); ++s) {
    CHECK(ours[s].rows1 == row_list(small[std::to_string(s)][0]));
    CHECK(ours[s].rows2 == row_list(small[std::to_string(s)][1]));
  }
  const auto full = kid_subsets(10000, 10000, KidOptions{});
  REQUIRE(full.size() == 100);
  for (const int s : {0, 1, 2, 99}) {
    const auto& want = fx::indices()["full"]["kid_subset_rows"][std::to_string(s)];
    CHECK(full[static_cast<size_t>(s)].rows1 == row_list(want[0]));
    CHECK(full[static_cast<size_t>(s)].rows2 == row_list(want[1]));
  }
}

TEST_CASE("MMD2 of the cubic kernel matches a hand computation") {
  // d = 1, gamma = 1, coef0 = 1: k(a, b) = (ab + 1)^3.
  // x = {1, 2}, y = {0, 1}: k(1,2) = 27, k(0,1) = 1, cross: k(1,0)=1, k(1,1)=8, k(2,0)=1, k(2,1)=27.
  // MMD2 = (2*27 + 2*1) / (2*1) - 2 * (1 + 8 + 1 + 27) / 4 = 28 - 18.5 = 9.5
  const at::Tensor x = at::tensor({1.0, 2.0}, at::kDouble).view({2, 1});
  const at::Tensor y = at::tensor({0.0, 1.0}, at::kDouble).view({2, 1});
  CHECK(mmd2_polynomial(x, y, 3, 1.0, 1.0) == doctest::Approx(9.5).epsilon(1e-15));
  // Other degrees go through pow: degree 2 gives (2*9 + 2*1)/2 - 2*(1 + 4 + 1 + 9)/4 = 2.5.
  CHECK(mmd2_polynomial(x, y, 2, 1.0, 1.0) == doctest::Approx(2.5).epsilon(1e-15));
}

TEST_CASE("KID of the small fixture matches torch-fidelity's float64 values to 1e-6") {
  const auto& ref = fx::reference()["small"];
  const at::Tensor f1 = fx::features(1, 500, 64);
  const at::Tensor f2 = fx::features(2, 500, 64);
  KidOptions o;
  o.subsets = 10;
  o.subset_size = 200;
  for (const bool float64_products : {false, true}) {
    CAPTURE(float64_products);
    o.float64_products = float64_products;
    const KidResult r = kernel_inception_distance(f1, f2, o);
    const auto want_mmds = fx::indices()["small"]["kid_mmds_float64"].get<std::vector<double>>();
    REQUIRE(r.mmds.size() == want_mmds.size());
    for (size_t i = 0; i < want_mmds.size(); ++i)
      CHECK(fx::relative_error(r.mmds[i], want_mmds[i]) < 1e-6);
    const auto& want = ref["values"]["kid_float64"];
    CHECK(fx::relative_error(r.mean, want["kernel_inception_distance_mean"]) < 1e-6);
    CHECK(fx::relative_error(r.std, want["kernel_inception_distance_std"]) < 1e-6);
  }
}

TEST_CASE("KID subsets of the full 10000 x 2048 fixture match the reference per subset") {
  // The whole 100-subset run is the benchmark's (tests/bench/metrics_bench.cpp); here subsets
  // 0, 1 and 99 of the full-size case, with the rows our RandomState draws, float32 products.
  const at::Tensor f1 = fx::features(1, 10000, 2048);
  const at::Tensor f2 = fx::features(2, 10000, 2048);
  const auto all = kid_subsets(10000, 10000, KidOptions{});
  const KidResult r = kernel_inception_distance(f1, f2, {all[0], all[1], all[99]});
  const auto want = fx::indices()["full"]["kid_mmds_float64"].get<std::vector<double>>();
  CHECK(fx::relative_error(r.mmds[0], want[0]) < 1e-6);
  CHECK(fx::relative_error(r.mmds[1], want[1]) < 1e-6);
  CHECK(fx::relative_error(r.mmds[2], want[99]) < 1e-6);
}

TEST_CASE("KID rejects subsets larger than a feature set, naming the option") {
  const at::Tensor f = at::zeros({10, 4});
  KidOptions o;
  o.subset_size = 11;
  try {
    kernel_inception_distance(f, f, o);
    FAIL("no error");
  } catch (const sg::ConfigError& e) {
    CHECK(std::string(e.what()).find("kid_subset_size 11") != std::string::npos);
  }
}
