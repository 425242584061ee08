#include "train/loss_plot.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>

#include "data/codec.h"
#include "text_search.h"

#include <doctest/doctest.h>

using namespace sg;

namespace {

const uint8_t kBlack[3] = {0, 0, 0}, kTickText[3] = {50, 50, 50};

// What trainer.cpp plots, shaped like a run of 1000 steps: D oscillating in 0..1, G in
// 1.2..2.8, the depth loss decaying from 0.1. Ticks land at 0, 0.5, ..., 2.5 and 0, 100, ..., 1000.
std::vector<train::Series> losses() {
  std::vector<train::Series> s = {{"D loss", {}, {}, {200, 30, 30}},
                                  {"G loss", {}, {}, {30, 60, 200}},
                                  {"depth loss", {}, {}, {30, 150, 30}}};
  for (int i = 0; i <= 1000; ++i) {
    const double vals[3] = {0.5 + 0.5 * std::sin(i / 50.0), 2 + 0.8 * std::cos(i / 70.0), 0.1 * std::exp(-i / 300.0)};
    for (int k = 0; k < 3; ++k) {
      s[k].x.push_back(i);
      s[k].y.push_back(vals[k]);
    }
  }
  return s;
}

// The axes are the only black lines: the y axis is the leftmost black pixel of the middle row,
// the x axis the lowest black pixel of the middle column.
int y_axis_x(const data::Image& img) {
  for (int x = 0; x < img.width; ++x)
    if (img.px(x, img.height / 2)[0] == 0 && img.px(x, img.height / 2)[2] == 0) return x;
  return -1;
}
int x_axis_y(const data::Image& img) {
  for (int y = img.height - 1; y >= 0; --y)
    if (img.px(img.width / 2, y)[0] == 0 && img.px(img.width / 2, y)[2] == 0) return y;
  return -1;
}

}  // namespace

TEST_CASE("tick labels are as short as the tick spacing allows") {
  CHECK(train::tick_label(0.5, 0.5) == "0.5");
  CHECK(train::tick_label(2, 0.5) == "2");
  CHECK(train::tick_label(-1.5, 0.5) == "-1.5");
  CHECK(train::tick_label(12, 2) == "12");
  CHECK(train::tick_label(20000, 5000) == "20000");
  CHECK(train::tick_label(0.004, 0.002) == "0.004");
  CHECK(train::tick_label(0.3 * 3, 0.1) == "0.9");  // 0.8999999999999999 printed to the step
  CHECK(train::tick_label(1.2e-3, 2e-4) == "1.2e-3");
  CHECK(train::tick_label(1e-3, 1e-4) == "1e-3");
  CHECK(train::tick_label(-6e-4, 2e-4) == "-6e-4");
  CHECK(train::tick_label(2.5e6, 5e5) == "2.5e6");
  CHECK(train::tick_label(1e-17, 0.1) == "0");
  CHECK(train::tick_label(-0.0, 1) == "0");
}

TEST_CASE("the loss plot names its series and labels both axes ($SG_TEST_TMP/loss_curve.png)") {
  const std::string png = train::plot_png(losses());
  const char* tmp = std::getenv("SG_TEST_TMP");
  std::ofstream(std::string(tmp ? tmp : "/tmp") + "/loss_curve.png", std::ios::binary) << png;
  const data::Image img = data::decode_png(png).image;
  REQUIRE(img.width == 640);
  REQUIRE(img.height == 360);
  const int ax = y_axis_x(img), ay = x_axis_y(img);
  REQUIRE(ax > 0);
  REQUIRE(ay > img.height / 2);

  // Legend: each name once, above the plot, right of a swatch of its series' colour, in order.
  int prev_x = -1;
  for (const auto& s : losses()) {
    INFO(s.name);
    const auto hits = test::find_text(img, s.name, kBlack);
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].y + data::kGlyphHeight < ay - 200);
    CHECK(hits[0].x > prev_x);
    prev_x = hits[0].x;
    const uint8_t* swatch = img.px(hits[0].x - 6, hits[0].y + 3);
    CHECK((swatch[0] == s.rgb[0] && swatch[1] == s.rgb[1] && swatch[2] == s.rgb[2]));
  }

  // y tick values left of the y axis, centred on a tick mark, larger values higher up.
  int prev_y = img.height;
  for (const char* v : {"0", "0.5", "1", "1.5", "2", "2.5"}) {
    INFO(v);
    std::vector<test::TextHit> left;
    for (const auto& h : test::find_text(img, v, kTickText))
      if (h.x + data::text_width(v) <= ax) left.push_back(h);
    REQUIRE(left.size() == 1);
    CHECK(left[0].y < prev_y);
    prev_y = left[0].y;
    const int mid = left[0].y + data::kCapHeight / 2;
    CHECK((img.px(ax - 2, mid)[0] == 0 || img.px(ax - 2, mid - 1)[0] == 0));  // the tick mark
  }
  CHECK(test::find_text(img, "3", kTickText).empty());  // above the 99th percentile

  // x tick values under the x axis, left to right, then the axis title under them.
  prev_x = -1;
  int label_y = -1;
  for (const char* v : {"0", "100", "500", "1000"}) {
    INFO(v);
    std::vector<test::TextHit> below;
    for (const auto& h : test::find_text(img, v, kTickText))
      if (h.y > ay) below.push_back(h);
    REQUIRE(below.size() == 1);
    CHECK(below[0].x > prev_x);
    CHECK(below[0].x + data::text_width(v) <= img.width);
    prev_x = below[0].x;
    label_y = below[0].y;
  }
  const auto title = test::find_text(img, "step", kTickText);
  REQUIRE(title.size() == 1);
  CHECK(title[0].y >= label_y + data::kLineHeight);
  CHECK(title[0].y + data::kGlyphHeight <= img.height);
  CHECK(std::abs(title[0].x + data::text_width("step") / 2 - (ax + img.width) / 2) < 20);
}

TEST_CASE("small values get scientific ticks, bigger images bigger text, and no data still makes a PNG") {
  std::vector<train::Series> s = {{"tiny", {}, {}, {0, 0, 255}}};
  for (int i = 0; i < 50; ++i) {
    s[0].x.push_back(i);
    s[0].y.push_back(1e-3 + 4e-5 * i);
  }
  const data::Image img = data::decode_png(train::plot_png(s)).image;
  const int ax = y_axis_x(img);
  bool sci = false;
  for (const char* v : {"1.2e-3", "1.4e-3", "1.6e-3", "1.8e-3", "2e-3", "2.2e-3", "2.4e-3"})
    for (const auto& h : test::find_text(img, v, kTickText)) sci |= h.x + data::text_width(v) <= ax;
  CHECK(sci);

  const data::Image big = data::decode_png(train::plot_png(losses(), 1280, 720)).image;
  CHECK(test::find_text(big, "D loss", kBlack, 2).size() == 1);
  CHECK(test::find_text(big, "step", kTickText, 2).size() == 1);

  const data::Image empty = data::decode_png(train::plot_png({})).image;
  CHECK(empty.width == 640);
  CHECK(test::find_text(empty, "step", kTickText).size() == 1);
  std::vector<train::Series> nan = {{"nan", {0, 1}, {NAN, INFINITY}, {1, 2, 3}}};
  CHECK(data::decode_png(train::plot_png(nan)).image.height == 360);
}

TEST_CASE("panels stack top to bottom, each with its own legend and axis, a fixed range keeps 0..1 ($SG_TEST_TMP/loss_panels.png)") {
  // What the trainer draws under the losses (issue 20): opacity inside/outside the silhouette,
  // sampled every 100 steps on the fixed 0..1 axis even though they only span 0.3..0.7.
  train::Panel opacity{{{"opacity inside silhouette", {}, {}, {230, 140, 0}}, {"opacity outside", {}, {}, {90, 90, 90}}},
                       0, 1};
  for (int i = 100; i <= 1000; i += 100) {
    opacity.series[0].x.push_back(i);
    opacity.series[0].y.push_back(0.3 + 0.4 * i / 1000.0);
    opacity.series[1].x.push_back(i);
    opacity.series[1].y.push_back(0.7 - 0.4 * i / 1000.0);
  }
  const std::string png = train::plot_panels_png({{losses()}, opacity}, 640, 240);
  const char* tmp = std::getenv("SG_TEST_TMP");
  std::ofstream(std::string(tmp ? tmp : "/tmp") + "/loss_panels.png", std::ios::binary) << png;
  const data::Image img = data::decode_png(png).image;
  REQUIRE(img.width == 640);
  REQUIRE(img.height == 480);
  // Each panel's legend in its own band.
  for (const char* name : {"D loss", "G loss", "depth loss"}) {
    const auto hits = test::find_text(img, name, kBlack);
    REQUIRE_MESSAGE(hits.size() == 1, name);
    CHECK(hits[0].y < 240);
  }
  for (const char* name : {"opacity inside silhouette", "opacity outside"}) {
    const auto hits = test::find_text(img, name, kBlack);
    REQUIRE_MESSAGE(hits.size() == 1, name);
    CHECK(hits[0].y >= 240);
  }
  // The lower panel's y ticks reach 0 and 1 although the data stays within 0.3..0.7.
  auto y_tick = [&](const char* v) {
    int n = 0;
    for (const auto& h : test::find_text(img, v, kTickText)) n += h.y >= 240 && h.x < 40;
    return n;
  };
  CHECK(y_tick("0") == 1);
  CHECK(y_tick("1") == 1);
  // Its curves use their colours, in the lower band only.
  int orange_top = 0, orange_bottom = 0;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      const uint8_t* p = img.px(x, y);
      if (p[0] == 230 && p[1] == 140 && p[2] == 0) (y < 240 ? orange_top : orange_bottom)++;
    }
  CHECK(orange_top == 0);
  CHECK(orange_bottom > 300);
}
