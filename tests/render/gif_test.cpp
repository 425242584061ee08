// The GIF written through giflib decodes back (through giflib) to the frames, within the fixed
// palette's quantisation, and loops forever.
#include <cstdlib>

#include "render/gif.h"
#include <doctest/doctest.h>

using namespace sg::render;

TEST_CASE("animated GIF round trip") {
  std::vector<sg::data::Image> frames;
  for (int f = 0; f < 4; ++f) {
    sg::data::Image img(20, 12);
    for (int y = 0; y < 12; ++y)
      for (int x = 0; x < 20; ++x) {
        uint8_t* p = img.px(x, y);
        p[0] = uint8_t(x * 12 + f * 10);
        p[1] = uint8_t(y * 20);
        p[2] = uint8_t(255 - x * 12);
      }
    frames.push_back(img);
  }
  const std::string gif = encode_gif(frames, 10);
  CHECK(gif.rfind("GIF89a", 0) == 0);
  CHECK(gif.find("NETSCAPE2.0") != std::string::npos);
  const auto back = decode_gif(gif, "test.gif");
  REQUIRE(back.size() == 4);
  for (size_t f = 0; f < 4; ++f) {
    REQUIRE(back[f].width == 20);
    REQUIRE(back[f].height == 12);
    // Each pixel within one palette step (255/5 = 51 for red and blue, 42.5 for green); the 4x4
    // average within half a step (dithering preserves local means).
    double mean_err = 0;
    for (size_t i = 0; i < back[f].rgb.size(); ++i) {
      const int d = std::abs(int(back[f].rgb[i]) - int(frames[f].rgb[i]));
      CHECK(d <= 51);
      mean_err += d;
    }
    CHECK(mean_err / double(back[f].rgb.size()) < 20);
  }
  // Pure palette colours come back exactly.
  sg::data::Image flat(8, 8);
  for (size_t i = 0; i < flat.rgb.size(); i += 3) flat.rgb[i] = 255, flat.rgb[i + 1] = 0, flat.rgb[i + 2] = 51;
  const auto f2 = decode_gif(encode_gif({flat}, 5), "flat.gif");
  CHECK(f2.at(0).rgb == flat.rgb);
  CHECK_THROWS(decode_gif(gif.substr(0, 30), "cut.gif"));
}
