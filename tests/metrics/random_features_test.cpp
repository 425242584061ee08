// The learning measure's weight-free feature map: the same numbers everywhere (pinned), zero on
// flat images, and a KID on it that ranks sets of synthetic objects the way a person would:
// a second sample of the same objects ~0, the objects moved or blurred clearly worse, noise
// worst.
#include "metrics/random_features.h"

#include <ATen/ATen.h>
#include <doctest/doctest.h>

#include <cstring>

#include "core/error.h"
#include "data/synth.h"
#include "metrics/kid.h"

using namespace sg;
using namespace sg::metrics;

namespace {

// n synthetic samples from index `first` at 32 px, (n, 3, 32, 32) in [-1, 1].
at::Tensor synth_images(int64_t first, int64_t n) {
  data::SynthParams p;
  p.count = 1000;
  p.size = 32;
  p.seed = 3;
  at::Tensor out = at::empty({n, 32, 32, 3}, at::kByte);
  for (int64_t k = 0; k < n; ++k) {
    const data::SynthSample s = data::render_synth_sample(p, first + k);
    std::memcpy(out[k].data_ptr<uint8_t>(), s.rgb.rgb.data(), s.rgb.rgb.size());
  }
  return out.permute({0, 3, 1, 2}).to(at::kFloat) / 127.5 - 1;
}

double kid(const at::Tensor& a, const at::Tensor& b) {
  KidOptions o;
  o.subsets = 50;
  o.subset_size = a.size(0) / 2;
  const RandomFeatureMap map = make_random_feature_map();
  return kernel_inception_distance(random_features(map, a), random_features(map, b), o).mean;
}

}  // namespace

TEST_CASE("the random feature map is the same numbers from the same seed, pinned") {
  const RandomFeatureMap a = make_random_feature_map(), b = make_random_feature_map();
  REQUIRE(a.filters.size() == 3);
  CHECK(a.filters[0].sizes() == at::IntArrayRef({32, 3, 3, 3}));
  CHECK(a.filters[2].sizes() == at::IntArrayRef({128, 64, 3, 3}));
  for (size_t l = 0; l < 3; ++l) CHECK(a.filters[l].equal(b.filters[l]));
  // Every filter sums to zero and has norm sqrt(2).
  for (const auto& f : a.filters) {
    CHECK(f.sum({1, 2, 3}).abs().max().item<double>() < 1e-5);
    CHECK((f.flatten(1).norm(2, 1) - std::sqrt(2.0)).abs().max().item<double>() < 1e-5);
  }
  // Pinned: a change of seed, RNG or construction changes every reported number. The filters
  // are drawn in double and rounded once, so they are exact; the features go through float
  // convolutions, whose rounding may differ in the last bits between BLAS builds.
  CHECK(a.filters[0][0][0][0][0].item<float>() == -0.1208159551f);
  const at::Tensor img = synth_images(0, 2);
  const at::Tensor f1 = random_features(a, img), f2 = random_features(b, img);
  CHECK(f1.sizes() == at::IntArrayRef({2, kRandomFeatureWidth}));
  CHECK(f1.equal(f2));
  CHECK(f1[0].sum().item<double>() == doctest::Approx(96.37973785).epsilon(1e-5));
  CHECK(f1[1][100].item<double>() == doctest::Approx(0.1764662713).epsilon(1e-5));
  // Another seed: other filters.
  CHECK(!make_random_feature_map(1).filters[0].equal(a.filters[0]));
  // 64 px images are area-averaged to 32 px first: the same features as their 32 px average.
  const at::Tensor big = img.repeat_interleave(2, 2).repeat_interleave(2, 3);
  CHECK((random_features(a, big) - f1).abs().max().item<double>() < 1e-5);
  CHECK_THROWS_AS(random_features(a, at::zeros({1, 3, 4, 4})), FormatError);
  CHECK_THROWS_AS(random_features(a, at::zeros({1, 1, 16, 16})), FormatError);
}

TEST_CASE("a flat image has only its colour layout: every convolution feature is zero") {
  const RandomFeatureMap map = make_random_feature_map();
  const at::Tensor grey = at::full({1, 3, 16, 16}, 0.2f);
  const at::Tensor f = random_features(map, grey);
  CHECK(f.slice(1, 48).abs().max().item<double>() < 1e-5);  // zero-sum filters, up to float rounding
  // The layout is (x + 1) / 2 = 0.6 times the block weight sqrt(944 / (4 * 48)).
  const double layout = 0.6 * std::sqrt(944.0 / 192.0);
  CHECK(f.slice(1, 0, 48).min().item<double>() == doctest::Approx(layout).epsilon(1e-6));
  CHECK(f.slice(1, 0, 48).max().item<double>() == doctest::Approx(layout).epsilon(1e-6));
  // Black, the synthetic set's background, is all zeros.
  CHECK(random_features(map, at::full({1, 3, 16, 16}, -1.0f)).abs().max().item<double>() < 1e-5);
}

TEST_CASE("KID on random features: same objects ~0, moved or blurred worse, noise worst") {
  const at::Tensor a = synth_images(0, 48), b = synth_images(48, 48);
  const double real = kid(a, b);
  const double same = kid(a, a.clone());
  // Shifted by 6 px to the right (the object leaves the centre), blurred by a 5x5 box.
  const at::Tensor shifted = at::cat({at::full({48, 3, 32, 6}, -1.0f), a.slice(3, 0, 26)}, 3);
  const at::Tensor blurred = at::avg_pool2d(at::pad(a, {2, 2, 2, 2}, "replicate"), 5, 1);
  at::manual_seed(5);
  const at::Tensor noise = at::rand({48, 3, 32, 32}) * 2 - 1;
  const double moved = kid(shifted, b), blur = kid(blurred, b), speckle = kid(noise, b);
  MESSAGE("real-vs-real " << real << ", identical " << same << ", shifted " << moved << ", blurred " << blur
                          << ", noise " << speckle);
  CHECK(std::abs(same) < 0.05 * moved);
  CHECK(std::abs(real) < 0.2 * moved);
  CHECK(std::abs(real) < 0.2 * blur);
  CHECK(speckle > 2 * moved);
  CHECK(speckle > 2 * blur);
}
