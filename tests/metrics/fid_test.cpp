#include "metrics/fid.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <doctest/doctest.h>

#include <cmath>

#include "fixture_features.h"
#include "reference_fixture.h"

namespace fx = sg::metrics::fixture;
using namespace sg::metrics;

namespace {

// A random symmetric positive definite (n, n) matrix with eigenvalues in [floor, floor + 1).
at::Tensor random_spd(int64_t n, double floor, at::Generator& gen) {
  const at::Tensor a = at::randn({n, 2 * n}, gen, at::TensorOptions(at::kDouble));
  return at::mm(a, a.t()) / static_cast<double>(2 * n) + floor * at::eye(n, at::kDouble);
}

void check_checksums(const at::Tensor& t, const nlohmann::json& want) {
  CHECK(t.to(at::kDouble).sum().item<double>() == want["sum_float64"].get<double>());
  const float* p = t.data_ptr<float>();
  for (const auto& [index, value] : want["samples"].items())
    CHECK(p[std::stoll(index)] == value.get<float>());
}

void check_fixture_case(const char* set, int64_t n, int64_t d) {
  const auto& ref = fx::reference()[set];
  const at::Tensor f1 = fx::features(1, n, d);
  const at::Tensor f2 = fx::features(2, n, d);
  check_checksums(f1, ref["values"]["checksums"]["features_1"]);
  check_checksums(f2, ref["values"]["checksums"]["features_2"]);
  const FidTerms t = frechet_distance(feature_statistics(f1), feature_statistics(f2));
  const auto& tf = ref["values"]["fid_torch_fidelity"];
  // Ours is the float64 path, as pytorch-fid's; torch-fidelity rounds the means to float32,
  // which moves its value by ~5e-7 relative, still inside 1e-6.
  CHECK(fx::relative_error(t.fid, ref["values"]["fid_pytorch_fid"]) < 1e-6);
  CHECK(fx::relative_error(t.fid, tf["frechet_inception_distance"]) < 1e-6);
  CHECK(fx::relative_error(t.trace_sigma1, tf["tr_sigma1"]) < 1e-9);
  CHECK(fx::relative_error(t.trace_sigma2, tf["tr_sigma2"]) < 1e-9);
  // tr_covmean is scipy's Schur sqrtm: the symmetric route gives the same trace.
  CHECK(fx::relative_error(t.trace_covmean, tf["tr_covmean"]) < 1e-9);
  // torch-fidelity's |mu1 - mu2|^2 is float32 (float32 means); ours is float64.
  CHECK(fx::relative_error(t.diff_dot_diff, tf["diff_dot_diff"]) < 1e-5);
}

}  // namespace

TEST_CASE("FID of the small fixture matches the reference libraries") {
  check_fixture_case("small", 500, 64);
}

TEST_CASE("FID of the full 10000 x 2048 fixture matches the reference libraries") {
  check_fixture_case("full", 10000, 2048);
}

TEST_CASE("Tr sqrtm(S1 S2) by the symmetric route equals the trace of a general sqrtm") {
  at::Generator gen = at::detail::createCPUGenerator(1234);
  for (const int64_t n : {2, 7, 60}) {
    for (const double floor : {1e-3, 1.0}) {
      const at::Tensor s1 = random_spd(n, floor, gen);
      const at::Tensor s2 = random_spd(n, floor, gen);
      const at::Tensor product = at::mm(s1, s2);  // not symmetric: the general case
      const at::Tensor root = sqrtm_denman_beavers(product);
      // The general sqrtm really is a square root of the product...
      CHECK((at::mm(root, root) - product).abs().max().item<double>() <
            1e-10 * product.abs().max().item<double>());
      // ...and its trace is what the symmetric eigendecomposition route computes.
      const double general = root.diagonal().sum().item<double>();
      CHECK(fx::relative_error(trace_sqrt_product(s1, s2), general) < 1e-10);
    }
  }
}

TEST_CASE("Tr sqrtm(S1 S2) handles singular covariances, as a rank-deficient feature set has") {
  // Fewer samples than dimensions: S1 has rank 3 in 6 dimensions. The symmetric route clamps the
  // round-off negatives to zero; the answer is the trace over the rank-3 subspace, which we
  // get independently from S1 = U U^T: eig(S1 S2) = eig(U^T S2 U) plus zeros.
  at::Generator gen = at::detail::createCPUGenerator(99);
  const at::Tensor u = at::randn({6, 3}, gen, at::TensorOptions(at::kDouble));
  const at::Tensor s1 = at::mm(u, u.t());
  const at::Tensor s2 = random_spd(6, 0.5, gen);
  const at::Tensor small = at::mm(at::mm(u.t(), s2), u);
  const double want = at::linalg_eigvalsh(small).sqrt().sum().item<double>();
  // The three zero eigenvalues come out as round-off of order 1e-16, whose square roots
  // (~1e-8) are what limits the agreement here; scipy's sqrtm has the same floor.
  CHECK(fx::relative_error(trace_sqrt_product(s1, s2), want) < 1e-7);
}

TEST_CASE("FID is zero for a set against itself and grows as d c^2 with a shift c") {
  const at::Tensor f = fx::features(1, 400, 32).to(at::kDouble);
  const FeatureStatistics s = feature_statistics(f);
  const double tr = s.cov.diagonal().sum().item<double>();
  CHECK(std::abs(frechet_distance(s, s).fid) < 1e-10 * tr);
  double previous = 0;
  for (const double c : {0.01, 0.1, 1.0}) {
    const FidTerms t = frechet_distance(s, feature_statistics(f + c));
    // A constant shift moves only the mean: FID = |c 1|^2 = d c^2.
    CHECK(t.fid == doctest::Approx(32 * c * c).epsilon(1e-8));
    CHECK(t.fid > previous);
    previous = t.fid;
  }
}

TEST_CASE("FID of diagonal Gaussians has the closed form |dmu|^2 + sum (sqrt a - sqrt b)^2") {
  FeatureStatistics a, b;
  a.mean = at::tensor({0.0, 1.0, 2.0}, at::kDouble);
  b.mean = at::tensor({1.0, 1.0, 0.0}, at::kDouble);
  a.cov = at::diag(at::tensor({4.0, 1.0, 9.0}, at::kDouble));
  b.cov = at::diag(at::tensor({1.0, 1.0, 0.25}, at::kDouble));
  // |dmu|^2 = 1 + 0 + 4 = 5; (2-1)^2 + 0 + (3-0.5)^2 = 1 + 6.25.
  CHECK(frechet_distance(a, b).fid == doctest::Approx(12.25).epsilon(1e-13));
}

TEST_CASE("feature statistics are numpy's mean and unbiased covariance") {
  const at::Tensor x = at::tensor({1.0, 2.0, 3.0, 6.0, 5.0, 4.0}, at::kDouble).view({3, 2});
  const FeatureStatistics s = feature_statistics(x);
  CHECK(s.count == 3);
  CHECK(s.mean[0].item<double>() == doctest::Approx(3.0));
  CHECK(s.mean[1].item<double>() == doctest::Approx(4.0));
  // Column 0: 1, 3, 5 (var 4); column 1: 2, 6, 4 (var 4); cov = ((-2)(-2) + 0 + 2*0)/2 = 2.
  CHECK(s.cov[0][0].item<double>() == doctest::Approx(4.0));
  CHECK(s.cov[1][1].item<double>() == doctest::Approx(4.0));
  CHECK(s.cov[0][1].item<double>() == doctest::Approx(2.0));
  CHECK_THROWS(feature_statistics(x.slice(0, 0, 1)));
}
