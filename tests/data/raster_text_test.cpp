#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "data/codec.h"
#include "data/raster_text.h"

using namespace sg::data;

namespace {

const uint8_t kInk[3] = {10, 20, 30};

Image white(int w, int h) {
  Image img(w, h);
  for (auto& v : img.rgb) v = 255;
  return img;
}

bool inked(const Image& img, int x, int y) {
  const uint8_t* p = img.px(x, y);
  return p[0] == kInk[0] && p[1] == kInk[1] && p[2] == kInk[2];
}

int inked_count(const Image& img) {
  int n = 0;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) n += inked(img, x, y);
  return n;
}

bool font_bit(char c, int col, int row) {
  return glyph_rows(static_cast<unsigned char>(c))[row] >> (kGlyphWidth - 1 - col) & 1;
}

}  // namespace

TEST_CASE("a glyph sets exactly the pixels its font rows name, scaled into blocks") {
  for (int scale : {1, 3}) {
    Image img = white(40, 40);
    draw_text(img, 4, 2, "A", kInk, scale);
    for (int y = 0; y < img.height; ++y)
      for (int x = 0; x < img.width; ++x) {
        const int col = (x - 4) / scale, row = (y - 2) / scale;
        const bool in_cell = x >= 4 && y >= 2 && col < kGlyphWidth && row < kGlyphHeight;
        CHECK_MESSAGE(inked(img, x, y) == (in_cell && font_bit('A', col, row)), "scale ", scale, " at ", x, ",", y);
      }
  }
  // 'A' as drawn in the table: a rounded top, a crossbar on row 3, open legs, nothing below.
  const uint8_t* a = glyph_rows('A');
  CHECK(a[0] == 0x0E);
  CHECK(a[3] == 0x1F);
  CHECK(a[6] == 0x11);
  CHECK(a[7] == 0);
  // Descenders use the rows under the capitals; capitals never do.
  CHECK(glyph_rows('g')[8] != 0);
  for (char c = 'A'; c <= 'Z'; ++c) CHECK_MESSAGE(glyph_rows(c)[7] == 0, c);
}

TEST_CASE("every printable ASCII character but the space has a glyph of its own") {
  for (int c = 33; c <= 126; ++c) {
    const uint8_t* g = glyph_rows(static_cast<unsigned char>(c));
    int bits = 0;
    for (int r = 0; r < kGlyphHeight; ++r) {
      CHECK(g[r] < (1 << kGlyphWidth));
      bits += g[r] != 0;
    }
    CHECK_MESSAGE(bits > 0, char(c));
    auto rows = [](int ch) {
      return std::string(reinterpret_cast<const char*>(glyph_rows(static_cast<unsigned char>(ch))), kGlyphHeight);
    };
    for (int d = c + 1; d <= 126; ++d) CHECK_MESSAGE(rows(c) != rows(d), char(c), " vs ", char(d));
  }
  Image img = white(20, 20);
  draw_text(img, 0, 0, " ", kInk);
  CHECK(inked_count(img) == 0);
}

TEST_CASE("text width is length x advance x scale, and glyphs sit one advance apart") {
  CHECK(text_width("") == 0);
  CHECK(text_width("step") == 4 * kAdvance);
  CHECK(text_width("1.2e-3", 2) == 6 * kAdvance * 2);
  CHECK(text_width("ab", 0) == text_width("ab", 1));
  CHECK(ink_width("") == 0);
  {
    // '7' inks its full glyph width on the top row: the rightmost inked column of "77" at
    // scale 2 is the last pixel ink_width counts.
    Image img = white(60, 20);
    draw_text(img, 0, 0, "77", kInk, 2);
    int right = -1;
    for (int y = 0; y < img.height; ++y)
      for (int x = 0; x < img.width; ++x)
        if (inked(img, x, y)) right = std::max(right, x);
    CHECK(right + 1 == ink_width("77", 2));
  }
  Image one = white(60, 20), two = white(60, 20);
  draw_text(one, 0, 0, "7", kInk, 2);
  draw_text(two, 0, 0, "77", kInk, 2);
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < kAdvance * 2; ++x) CHECK(inked(two, x + kAdvance * 2, y) == inked(one, x, y));
}

TEST_CASE("characters outside the table draw a box, not nothing") {
  for (const char* s : {"\xC3", "\n", "\x7F", "\x01"}) {
    Image img = white(12, 12);
    draw_text(img, 1, 1, s, kInk);
    CHECK_MESSAGE(inked(img, 1, 1), int(static_cast<unsigned char>(s[0])));
    CHECK(inked(img, 1 + kGlyphWidth - 1, 1 + kCapHeight - 1));
    CHECK(!inked(img, 3, 3));  // hollow
    CHECK(inked_count(img) == 2 * kGlyphWidth + 2 * (kCapHeight - 2));
  }
  CHECK(glyph_rows(0xC3) == glyph_rows(0x00));
  CHECK(glyph_rows(0xC3) != glyph_rows('#'));
}

TEST_CASE("text crossing or outside every border is clipped, not written out of bounds") {
  Image img = white(10, 8);
  const std::string before = std::string(img.rgb.begin(), img.rgb.end());
  draw_text(img, -7, -5, "Wg|", kInk, 2);
  draw_text(img, 6, 5, "Wg|", kInk, 3);
  draw_text(img, -1000000, 3, "far left", kInk);
  draw_text(img, 1000000, 3, "far right", kInk);
  draw_text(img, 0, 1000000, "below", kInk);
  draw_text(img, 0, -1000000, "above", kInk);
  CHECK(img.rgb.size() == 10u * 8u * 3u);
  CHECK(inked_count(img) > 0);
  CHECK(std::string(img.rgb.begin(), img.rgb.end()) != before);
  Image empty;
  draw_text(empty, 0, 0, "x", kInk);  // a 0x0 image: nothing to draw into
  CHECK(empty.rgb.empty());
}

TEST_CASE("the whole table at scale 2, for a person to look at ($SG_TEST_TMP/raster_text_sheet.png)") {
  Image img = white(16 * kAdvance * 2 + 8, 6 * kLineHeight * 2 + 8);  // 6 rows of 16: 32..127
  for (int c = 32; c <= 127; ++c) {
    const char s[2] = {static_cast<char>(c), 0};
    draw_text(img, 4 + (c % 16) * kAdvance * 2, 4 + (c / 16 - 2) * kLineHeight * 2, s, kInk, 2);
  }
  const char* tmp = std::getenv("SG_TEST_TMP");
  const std::string png = encode_png(img);
  CHECK(decode_png(png).image.rgb == img.rgb);
  if (FILE* f = std::fopen((std::string(tmp ? tmp : "/tmp") + "/raster_text_sheet.png").c_str(), "wb")) {
    std::fwrite(png.data(), 1, png.size(), f);
    std::fclose(f);
  }
}
