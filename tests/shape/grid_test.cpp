// The grid of shape extraction: the reference's sheared coordinates (spec §9), the regular
// lattice behind the switch, and the up-front memory check.
#include <cmath>

#include "core/error.h"
#include "shape/grid.h"
#include <doctest/doctest.h>

using namespace sg::shape;

TEST_CASE("grid points follow the reference's float-division formula") {
  GridSpec g{8, 0.3, true};
  const int64_t N = 8;
  at::Tensor p = grid_points(g, 0, g.count());
  REQUIRE(p.size(0) == N * N * N);
  const double vs = 0.3 / (N - 1);
  for (int64_t k : {int64_t(0), int64_t(1), int64_t(9), int64_t(77), int64_t(300), N * N * N - 1}) {
    // The reference: samples[:, 2] = k % N, [:, 1] = (k / N) % N, [:, 0] = ((k / N) / N) % N,
    // with true division, then * voxel_size - c/2.
    const double c2 = std::fmod(double(k), double(N));
    const double c1 = std::fmod(double(k) / N, double(N));
    const double c0 = std::fmod(double(k) / N / N, double(N));
    CHECK(p[k][0].item<float>() == doctest::Approx(c0 * vs - 0.15).epsilon(1e-6));
    CHECK(p[k][1].item<float>() == doctest::Approx(c1 * vs - 0.15).epsilon(1e-6));
    CHECK(p[k][2].item<float>() == doctest::Approx(c2 * vs - 0.15).epsilon(1e-6));
  }
  // The last point is not at the cube's corner: the shear pushes x and y past +c/2.
  CHECK(p[N * N * N - 1][0].item<float>() > 0.15f);
}

TEST_CASE("the regular lattice spans the cube exactly") {
  GridSpec g{5, 0.3, false};
  at::Tensor p = grid_points(g, 0, g.count());
  CHECK(p[0][0].item<float>() == doctest::Approx(-0.15));
  CHECK(p[124][0].item<float>() == doctest::Approx(0.15));
  CHECK(p[124][1].item<float>() == doctest::Approx(0.15));
  CHECK(p[1][2].item<float>() == doctest::Approx(-0.15 + 0.075));
  const auto w = grid_to_world(g, 2, 2, 2);
  CHECK(w[0] == doctest::Approx(0).epsilon(1e-12));
}

TEST_CASE("impossible grids are refused before any work") {
  CHECK_THROWS_AS(validate(GridSpec{1, 0.3, true}, 1e9), sg::ConfigError);
  CHECK_THROWS_AS(validate(GridSpec{64, 0, true}, 1e9), sg::ConfigError);
  // 1024^3 floats (three copies) = 12 GiB, over a 1 GiB budget.
  CHECK_THROWS_WITH_AS(validate(GridSpec{1024, 0.3, true}, double(1 << 30)),
                       doctest::Contains("budget"), sg::ConfigError);
  CHECK_NOTHROW(validate(GridSpec{64, 0.3, true}, double(1 << 30)));
}
