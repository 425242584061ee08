#include "train/samples.h"

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "data/codec.h"
#include "data/light_prior.h"
#include "text_search.h"
#include "tiny_generator.h"

// doctest last: its CHECK must win over glog's, which LibTorch headers define.
#include <doctest/doctest.h>

using namespace sg;

namespace {

const uint8_t kInk[3] = {40, 40, 40};

train::SampleInputs inputs(int64_t n) {
  const data::LightPrior p = data::default_light_prior();
  const at::Tensor mean = torch::tensor(std::vector<double>(p.mean.begin(), p.mean.end())).to(torch::kFloat);
  const at::Tensor cov = torch::tensor(std::vector<double>(p.cov.begin(), p.cov.end())).reshape({4, 4}).to(torch::kFloat);
  const model::LightPrior prior = model::make_light_prior(mean, cov, "default");
  return train::fixed_sample_inputs(n, 8, prior, 11);
}

model::RenderOptions render() {
  model::RenderOptions o;
  o.num_steps = 6;
  o.psi = 1;
  return o;
}

}  // namespace

TEST_CASE("the sample grid names its rows in a label column and its step in a title ($SG_TEST_TMP/samples.png)") {
  model::Generator g = test::tiny_generator();
  const std::string png = train::sample_grid(g, inputs(4), render(), 32, 1234).png;
  const char* tmp = std::getenv("SG_TEST_TMP");
  std::ofstream(std::string(tmp ? tmp : "/tmp") + "/samples.png", std::ios::binary) << png;
  const data::Image img = data::decode_png(png).image;
  const int label_w = img.width - 4 * 32, title_h = img.height - 5 * 32;
  CHECK(label_w >= data::text_width("opacity"));
  CHECK(title_h >= data::kLineHeight);
  // Each name once, inside the label column, vertically within its own row of tiles.
  const char* names[] = {"rgb", "albedo", "shading", "depth", "opacity"};
  for (int r = 0; r < 5; ++r) {
    INFO(names[r]);
    const auto hits = test::find_text(img, names[r], kInk);
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].x >= 0);
    CHECK(hits[0].x + data::text_width(names[r]) <= label_w);
    CHECK(hits[0].y >= title_h + r * 32);
    CHECK(hits[0].y + data::kCapHeight <= title_h + (r + 1) * 32);
  }
  const auto title = test::find_text(img, "EMA samples, step 1234", kInk);
  REQUIRE(title.size() == 1);
  CHECK(title[0].y + data::kCapHeight <= title_h);
}

TEST_CASE("a narrow grid gets the short title, and pi-GAN's grid only the rows it has") {
  model::Generator g = test::tiny_generator(model::GeneratorConfig::pigan());
  const data::Image img = data::decode_png(train::sample_grid(g, inputs(2), render(), 16, 8).png).image;
  CHECK(test::find_text(img, "step 8", kInk).size() == 1);
  CHECK(test::find_text(img, "EMA samples, step 8", kInk).empty());
  CHECK(test::find_text(img, "rgb", kInk).size() == 1);
  CHECK(test::find_text(img, "depth", kInk).size() == 1);
  CHECK(test::find_text(img, "opacity", kInk).size() == 1);
  CHECK(test::find_text(img, "albedo", kInk).empty());
  CHECK(img.height - 3 * 16 >= data::kLineHeight);  // three rows of tiles under the title
}

TEST_CASE("the shading row is on a fixed scale: before the warm-up (l_ratio 0) it is mid-grey, after it varies") {
  model::Generator g = test::tiny_generator();
  // Lowest and highest value of the shading row's tile pixels (row 2: rgb, albedo, shading, depth, opacity).
  auto shading_row = [&](double l_ratio) {
    model::RenderOptions o = render();
    o.l_ratio = l_ratio;
    const data::Image img = data::decode_png(train::sample_grid(g, inputs(4), o, 32, 1).png).image;
    const int label_w = img.width - 4 * 32, title_h = img.height - 5 * 32;
    int lo = 255, hi = 0;
    for (int y = title_h + 2 * 32; y < title_h + 3 * 32; ++y)
      for (int x = label_w; x < img.width; ++x) {
        lo = std::min<int>(lo, img.px(x, y)[0]);
        hi = std::max<int>(hi, img.px(x, y)[0]);
      }
    return std::array<int, 2>{lo, hi};
  };
  const auto off = shading_row(0);
  CHECK(off[0] == 128);  // shade 1 / 2 * 255 + 0.5, rounded down: 128 everywhere
  CHECK(off[1] == 128);
  const auto on = shading_row(1);
  CHECK(on[1] - on[0] > 20);
}

TEST_CASE("the opacity row draws each ray's summed weights (0 black, 1 white) and the stats are their means in the silhouette's regions") {
  model::Generator g = test::tiny_generator();
  const int64_t S = 16;
  // Mean of the opacity row's pixels (row 4: rgb, albedo, shading, depth, opacity), in [0, 1].
  auto opacity_row = [&](const data::Image& img) {
    const int label_w = img.width - 4 * S, title_h = img.height - 5 * S;
    double sum = 0;
    for (int y = title_h + 4 * S; y < title_h + 5 * S; ++y)
      for (int x = label_w; x < img.width; ++x) sum += img.px(x, y)[0];
    return sum / (255.0 * S * 4 * S);
  };
  // Left half: every image of the data covers it; right half: none does.
  const at::Tensor half = at::cat({at::ones({S, S / 2}), at::zeros({S, S / 2})}, 1);

  // Untrained: fog of some opacity strictly between empty and opaque, and the row's brightness
  // is the mean opacity. The last interval reaches to infinity (spec §4.5), so a ray is opaque
  // exactly when its last sample has density > 0: with the density head's bias at 0 that is the
  // sign of a random projection of the trunk's features, which differs from ray to ray (this
  // seed's initial bias alone makes every ray empty).
  {
    torch::NoGradGuard ng;
    g->siren->final_layer->bias.zero_();
  }
  const train::SampleGrid fog = train::sample_grid(g, inputs(4), render(), S, 1, half);
  const data::Image img = data::decode_png(fog.png).image;
  CHECK(test::find_text(img, "opacity", kInk).size() == 1);
  CHECK(fog.stats.opacity_mean > 0.01);
  CHECK(fog.stats.opacity_mean < 0.99);
  CHECK(opacity_row(img) == doctest::Approx(fog.stats.opacity_mean).epsilon(0.01));
  CHECK((fog.stats.opacity_in + fog.stats.opacity_out) / 2 == doctest::Approx(fog.stats.opacity_mean).epsilon(1e-6));

  // The density head's bias decides it: far positive, every ray ends (white row, 1 in and out);
  // far negative, none does (black row, 0).
  {
    torch::NoGradGuard ng;
    g->siren->final_layer->bias.fill_(1e4);
  }
  const train::SampleGrid solid = train::sample_grid(g, inputs(4), render(), S, 1, half);
  CHECK(solid.stats.opacity_in == doctest::Approx(1).epsilon(1e-6));
  CHECK(solid.stats.opacity_out == doctest::Approx(1).epsilon(1e-6));
  CHECK(opacity_row(data::decode_png(solid.png).image) == doctest::Approx(1));
  {
    torch::NoGradGuard ng;
    g->siren->final_layer->bias.fill_(-1e4);
  }
  const train::SampleGrid empty = train::sample_grid(g, inputs(4), render(), S, 1, half);
  CHECK(empty.stats.opacity_in == doctest::Approx(0));
  CHECK(empty.stats.opacity_out == doctest::Approx(0));
  CHECK(opacity_row(data::decode_png(empty.png).image) == doctest::Approx(0));

  // No silhouette, or a region without pixels: not measured (NaN), never a made-up 0.
  CHECK(std::isnan(train::sample_grid(g, inputs(2), render(), S, 1).stats.opacity_in));
  const train::SampleGrid none_inside = train::sample_grid(g, inputs(2), render(), S, 1, at::full({S, S}, 0.5));
  CHECK(std::isnan(none_inside.stats.opacity_in));
  CHECK(std::isnan(none_inside.stats.opacity_out));
}
