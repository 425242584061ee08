#include "train/loss_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "data/codec.h"
#include "data/image.h"
#include "data/raster_text.h"

namespace sg::train {

namespace {

void put(data::Image& img, int x, int y, const unsigned char* c) {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  uint8_t* p = img.px(x, y);
  p[0] = c[0];
  p[1] = c[1];
  p[2] = c[2];
}

void fill(data::Image& img, int x0, int y0, int w, int h, const unsigned char* c) {
  for (int y = y0; y < y0 + h; ++y)
    for (int x = x0; x < x0 + w; ++x) put(img, x, y, c);
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

// log10 of a 1/2/5 x 10^k step, rounded down: k. The epsilon absorbs 10^k's rounding error.
int decade(double step) { return static_cast<int>(std::floor(std::log10(step) + 1e-9)); }

// About `target` round ticks (multiples of 1, 2 or 5 x 10^k, at least min_step apart) in [lo, hi].
struct Ticks {
  double step = 1;
  std::vector<double> at;
};
Ticks round_ticks(double lo, double hi, int target, double min_step) {
  Ticks t;
  const double raw = (hi - lo) / std::max(target, 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  t.step = std::max(min_step, (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag);
  // Multiples of the step as integer multiples, so 0 is exactly 0 and no error accumulates.
  const double first = std::ceil(lo / t.step - 1e-9), last = std::floor(hi / t.step + 1e-9);
  for (double i = first; i <= last; ++i) t.at.push_back(i * t.step);
  return t;
}

std::string strip_zeros(std::string s) {
  if (s.find('.') == std::string::npos) return s;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

std::string tick_label(double v, double step) {
  const int k = decade(step);
  if (std::abs(v) < 0.5 * step) return "0";  // also keeps -0 and 1e-17 from a sum out
  if (k >= -3 && std::abs(v) < 1e6) return strip_zeros(fmt::format("{:.{}f}", v, std::max(0, -k)));
  int e = static_cast<int>(std::floor(std::log10(std::abs(v))));
  std::string m = strip_zeros(fmt::format("{:.{}f}", v / std::pow(10.0, e), std::max(0, e - k)));
  if (m == "10" || m == "-10") {  // 9.97e-4 rounded up to the next decade
    ++e;
    m = m.substr(0, m.size() - 1);
  }
  return m + "e" + std::to_string(e);
}

namespace {

// One panel, drawn into a fresh image.
data::Image plot_image(const std::vector<Series>& series, int width, int height, double fixed_lo, double fixed_hi) {
  data::Image img(width, height);
  std::fill(img.rgb.begin(), img.rgb.end(), 255);
  const int S = std::max(1, std::min(width / 640, height / 360));  // text scale
  const int cap = data::kCapHeight * S, line_h = data::kLineHeight * S;
  const unsigned char black[3] = {0, 0, 0}, text[3] = {50, 50, 50}, grid[3] = {225, 225, 225};

  std::vector<double> ys;
  double xmin = INFINITY, xmax = -INFINITY;
  for (const auto& s : series)
    for (size_t i = 0; i < s.y.size(); ++i)
      if (std::isfinite(s.y[i])) {
        ys.push_back(s.y[i]);
        xmin = std::min(xmin, s.x[i]);
        xmax = std::max(xmax, s.x[i]);
      }
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
  } else {
    xmin = 0;
  }
  if (!(xmax > xmin)) xmax = xmin + 1;
  if (std::isfinite(fixed_lo) && std::isfinite(fixed_hi) && fixed_hi > fixed_lo) {
    const double pad = 0.05 * (fixed_hi - fixed_lo);  // the bounds' curves stay visible off the frame
    ymin = fixed_lo - pad;
    ymax = fixed_hi + pad;
  }

  // Legend: swatch + name per series, left to right, wrapping to a new line when the width
  // runs out. Laid out first because its height sets the top margin.
  const int sw = 16 * S, gap = 4 * S, pad = 12 * S;
  struct Entry {
    int x, y;
  };
  std::vector<Entry> legend;
  int lx = 10 * S, ly = 8 * S;
  for (const auto& s : series) {
    const int w = sw + gap + data::text_width(s.name, S);
    if (lx > 10 * S && lx + w > width - 4 * S) {
      lx = 10 * S;
      ly += line_h + 4 * S;
    }
    legend.push_back({lx, ly});
    lx += w + pad;
  }
  // Margins: the legend above, two text lines below (tick values, then "step"), the widest y
  // tick value to the left, and room on the right for half of a last x tick value.
  const int top = (series.empty() ? 8 * S : ly + cap) + 10 * S;
  const int bottom = height - (6 * S + line_h + 3 * S + line_h + 2 * S);
  const Ticks yt = round_ticks(ymin, ymax, std::clamp((bottom - top) / (45 * S), 2, 8), 0);
  std::vector<std::string> ylabels;
  int ylabel_w = 0;
  for (double v : yt.at) {
    ylabels.push_back(tick_label(v, yt.step));
    ylabel_w = std::max(ylabel_w, data::text_width(ylabels.back(), S));
  }
  const int left = std::max(40 * S, ylabel_w + 10 * S), right = width - 20 * S;

  auto px = [&](double x) { return left + static_cast<int>(std::lround((x - xmin) / (xmax - xmin) * (right - left))); };
  auto py = [&](double y) {
    const double t = std::clamp((y - ymin) / (ymax - ymin), 0.0, 1.0);
    return bottom - static_cast<int>(std::lround(t * (bottom - top)));
  };
  // Steps are whole numbers; space the x ticks by the widest value they could print.
  const int xlabel_w = data::text_width(tick_label(-std::max(std::abs(xmin), std::abs(xmax)), 1), S);
  const Ticks xt = round_ticks(xmin, xmax, std::clamp((right - left) / (xlabel_w + 40 * S), 2, 10), 1);

  for (double v : yt.at) line(img, left, py(v), right, py(v), grid);
  for (double v : xt.at) line(img, px(v), top, px(v), bottom, grid);
  // y = 0 stands out when it is in range.
  if (ymin < 0 && ymax > 0) {
    const unsigned char zero[3] = {160, 160, 160};
    line(img, left, py(0), right, py(0), zero);
  }
  line(img, left, top, left, bottom, black);
  line(img, left, bottom, right, bottom, black);
  // Tick marks and values: y values right-aligned to the tick, centred on it; x values centred
  // under their tick but kept inside the image.
  for (size_t i = 0; i < yt.at.size(); ++i) {
    const int y = py(yt.at[i]);
    fill(img, left - 4 * S, y, 4 * S, 2, black);
    data::draw_text(img, left - 6 * S - data::ink_width(ylabels[i], S), y + 1 - cap / 2, ylabels[i], text, S);
  }
  for (double v : xt.at) {
    const int x = px(v);
    const std::string s = tick_label(v, xt.step);
    const int w = data::ink_width(s, S);
    fill(img, x, bottom + 2, 2, 4 * S, black);
    data::draw_text(img, std::clamp(x + 1 - w / 2, 0, width - w), bottom + 6 * S, s, text, S);
  }
  const int title_w = data::ink_width("step", S);
  data::draw_text(img, (left + right - title_w) / 2, bottom + 6 * S + line_h + 3 * S, "step", text, S);

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
    int prev_x = -1, prev_y = 0;
    for (int c = 0; c < width; ++c) {
      if (!n[c]) continue;
      const int y = py(sum[c] / n[c]);
      if (prev_x >= 0) line(img, prev_x, prev_y, c, y, s.rgb);
      else put(img, c, y, s.rgb);
      prev_x = c;
      prev_y = y;
    }
    fill(img, legend[k].x, legend[k].y - S, sw, cap + 2 * S, s.rgb);
    data::draw_text(img, legend[k].x + sw + gap, legend[k].y, s.name, black, S);
  }
  return img;
}

}  // namespace

std::string plot_png(const std::vector<Series>& series, int width, int height) {
  return data::encode_png(plot_image(series, width, height, NAN, NAN));
}

std::string plot_panels_png(const std::vector<Panel>& panels, int width, int panel_height) {
  data::Image img(width, panel_height * static_cast<int>(panels.size()));
  for (size_t k = 0; k < panels.size(); ++k) {
    const data::Image p = plot_image(panels[k].series, width, panel_height, panels[k].y_lo, panels[k].y_hi);
    std::copy(p.rgb.begin(), p.rgb.end(), img.px(0, static_cast<int>(k) * panel_height));
  }
  return data::encode_png(img);
}

}  // namespace sg::train
