#include "metrics/silhouette.h"

#include <ATen/ATen.h>
#include <doctest/doctest.h>

#include "core/error.h"

using namespace sg::metrics;

TEST_CASE("opacity is the sum of each ray's weights, laid out as the image") {
  // 2 images of 2x2 px, 3 samples per ray: pixel p of image b has weights (0.1 p, 0.2, 0.05 b).
  at::Tensor w = at::zeros({2, 4, 3, 1});
  for (int b = 0; b < 2; ++b)
    for (int p = 0; p < 4; ++p) {
      w[b][p][0][0] = 0.1 * p;
      w[b][p][1][0] = 0.2;
      w[b][p][2][0] = 0.05 * b;
    }
  const at::Tensor o = opacity_from_weights(w, 2);
  REQUIRE(o.sizes() == at::IntArrayRef({2, 2, 2}));
  CHECK(o[0][0][0].item<double>() == doctest::Approx(0.2));
  CHECK(o[0][1][1].item<double>() == doctest::Approx(0.5));   // pixel 3: 0.3 + 0.2
  CHECK(o[1][1][0].item<double>() == doctest::Approx(0.45));  // pixel 2: 0.2 + 0.2 + 0.05
  CHECK_THROWS_AS(opacity_from_weights(w, 3), sg::FormatError);
}

TEST_CASE("silhouette vectors keep the covered fraction of each cell") {
  at::Tensor m = at::zeros({1, 4, 4});
  m[0][0][0] = 1;  // one pixel of the top-left 2x2 cell
  m.slice(1, 2, 4).slice(2, 2, 4).fill_(1);  // the whole bottom-right cell
  const at::Tensor v = silhouette_vectors(m, 2);
  REQUIRE(v.sizes() == at::IntArrayRef({1, 4}));
  CHECK(v[0][0].item<double>() == doctest::Approx(0.25));
  CHECK(v[0][1].item<double>() == 0.0);
  CHECK(v[0][3].item<double>() == doctest::Approx(1.0));
  CHECK_THROWS_AS(silhouette_vectors(m, 5), sg::FormatError);
}

TEST_CASE("soft IoU is the IoU of masks, and nearest IoU finds the best match") {
  const at::Tensor a = at::tensor({1., 1., 0., 0.}).view({1, 4});
  const at::Tensor b = at::tensor({0., 1., 1., 0., 0., 0., 1., 1., 1., 1., 0., 0., 0., 0., 0., 0.}).view({4, 4});
  const at::Tensor iou = soft_iou(a, b);
  CHECK(iou[0][0].item<double>() == doctest::Approx(1.0 / 3.0));  // half overlap
  CHECK(iou[0][1].item<double>() == 0.0);                         // disjoint
  CHECK(iou[0][2].item<double>() == 1.0);                         // identical
  // Soft: min over max per entry.
  const at::Tensor half = at::tensor({0.5, 0.5, 0., 0.}).view({1, 4});
  CHECK(soft_iou(half, a)[0][0].item<double>() == doctest::Approx(0.5));
  CHECK(soft_iou(at::zeros({1, 4}), at::zeros({1, 4}))[0][0].item<double>() == 1.0);
  CHECK(nearest_soft_iou(a, b) == 1.0);
  CHECK(nearest_soft_iou(at::cat({a, half}), b.slice(0, 0, 2)) == doctest::Approx((1.0 / 3.0 + 0.2) / 2));
}
