#include "train/loss_plot.h"

#include <algorithm>
#include <cmath>

#include "data/codec.h"
#include "data/image.h"

namespace sg::train {

namespace {

void put(data::Image& img, int x, int y, const unsigned char* c) {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  uint8_t* p = img.px(x, y);
  p[0] = c[0];
  p[1] = c[1];
  p[2] = c[2];
}

// Bresenham, two pixels thick.
void line(data::Image& img, int x0, int y0, int x1, int y1, const unsigned char* c) {
  const int dx = std::abs(x1 - x0), sx = x0 < x1 ? 1 : -1, dy = -std::abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
  int err = dx + dy;
  while (true) {
    put(img, x0, y0, c);
    put(img, x0, y0 + 1, c);
    if (x0 == x1 && y0 == y1) break;
    const int e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y0 += sy;
    }
  }
}

}  // namespace

std::string plot_png(const std::vector<Series>& series, int width, int height) {
  data::Image img(width, height);
  std::fill(img.rgb.begin(), img.rgb.end(), 255);
  const int left = 40, right = width - 12, top = 24, bottom = height - 24;
  std::vector<double> ys;
  double xmin = INFINITY, xmax = -INFINITY;
  for (const auto& s : series)
    for (size_t i = 0; i < s.y.size(); ++i)
      if (std::isfinite(s.y[i])) {
        ys.push_back(s.y[i]);
        xmin = std::min(xmin, s.x[i]);
        xmax = std::max(xmax, s.x[i]);
      }
  const unsigned char black[3] = {0, 0, 0}, grid[3] = {225, 225, 225};
  double ymin = 0, ymax = 1;
  if (!ys.empty()) {
    std::sort(ys.begin(), ys.end());
    ymin = ys[static_cast<size_t>(0.01 * double(ys.size() - 1))];
    ymax = ys[static_cast<size_t>(0.99 * double(ys.size() - 1))];
    if (ymax - ymin < 1e-9) {
      ymin -= 0.5;
      ymax += 0.5;
    }
    const double pad = 0.05 * (ymax - ymin);
    ymin -= pad;
    ymax += pad;
  }
  if (!(xmax > xmin)) xmax = xmin + 1;
  auto px = [&](double x) { return left + static_cast<int>(std::lround((x - xmin) / (xmax - xmin) * (right - left))); };
  auto py = [&](double y) {
    const double t = std::clamp((y - ymin) / (ymax - ymin), 0.0, 1.0);
    return bottom - static_cast<int>(std::lround(t * (bottom - top)));
  };
  for (int k = 1; k < 5; ++k) {
    const int y = top + k * (bottom - top) / 5, x = left + k * (right - left) / 5;
    line(img, left, y, right, y, grid);
    line(img, x, top, x, bottom, grid);
  }
  // y = 0 stands out when it is in range.
  if (ymin < 0 && ymax > 0) {
    const unsigned char zero[3] = {160, 160, 160};
    line(img, left, py(0), right, py(0), zero);
  }
  line(img, left, top, left, bottom, black);
  line(img, left, bottom, right, bottom, black);
  for (size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    // Average into pixel columns.
    std::vector<double> sum(static_cast<size_t>(width), 0.0);
    std::vector<int> n(static_cast<size_t>(width), 0);
    for (size_t i = 0; i < s.y.size(); ++i) {
      if (!std::isfinite(s.y[i])) continue;
      const int c = std::clamp(px(s.x[i]), 0, width - 1);
      sum[c] += s.y[i];
      ++n[c];
    }
    int lx = -1, ly = 0;
    for (int c = 0; c < width; ++c) {
      if (!n[c]) continue;
      const int y = py(sum[c] / n[c]);
      if (lx >= 0) line(img, lx, ly, c, y, s.rgb);
      else put(img, c, y, s.rgb);
      lx = c;
      ly = y;
    }
    // Swatch.
    for (int yy = 6; yy < 16; ++yy)
      for (int xx = 0; xx < 18; ++xx) put(img, left + 6 + static_cast<int>(k) * 26 + xx, yy, s.rgb);
  }
  return data::encode_png(img);
}

}  // namespace sg::train
