#pragma once
// Finding drawn text in a (decoded) image, for the tests of images that carry labels: the
// positions where `s`, drawn by data/raster_text.h in colour `rgb` at `scale`, appears exactly,
// and no other pixel of that colour lies within 3 font pixels around it, so "1" is not found
// inside "12" and a label that lost a glyph is not found at all.
#include <string_view>
#include <vector>

#include "data/image.h"
#include "data/raster_text.h"

namespace sg::test {

struct TextHit {
  int x, y;  // the top-left corner draw_text was given
};

inline std::vector<TextHit> find_text(const data::Image& img, std::string_view s, const uint8_t rgb[3], int scale = 1) {
  const int m = 3 * scale, w = data::text_width(s, scale) + 2 * m, h = data::kGlyphHeight * scale + 2 * m;
  data::Image pattern(w, h);
  const uint8_t on[3] = {255, 255, 255};
  data::draw_text(pattern, m, m, s, on, scale);
  std::vector<int> ink, blank;  // offsets dx + dy * w; ink is checked first, it rejects fastest
  for (int dy = 0; dy < h; ++dy)
    for (int dx = 0; dx < w; ++dx) (pattern.px(dx, dy)[0] ? ink : blank).push_back(dx + dy * w);
  auto is_ink = [&](int x, int y) {
    if (x < 0 || y < 0 || x >= img.width || y >= img.height) return false;
    const uint8_t* p = img.px(x, y);
    return p[0] == rgb[0] && p[1] == rgb[1] && p[2] == rgb[2];
  };
  std::vector<TextHit> hits;
  for (int y = -m; y < img.height; ++y)
    for (int x = -m; x < img.width; ++x) {
      bool ok = true;
      for (size_t i = 0; ok && i < ink.size(); ++i) ok = is_ink(x + ink[i] % w, y + ink[i] / w);
      for (size_t i = 0; ok && i < blank.size(); ++i) ok = !is_ink(x + blank[i] % w, y + blank[i] / w);
      if (ok) hits.push_back({x + m, y + m});
    }
  return hits;
}

}  // namespace sg::test
