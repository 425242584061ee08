#pragma once
// The loss curves as a PNG, drawn directly into an RGB buffer (axes, light grid lines at round
// values, one polyline per series, a legend of colour swatch + series name along the top in
// series order, tick values on both axes, "step" under the x axis; text by data/raster_text.h),
// so no plotting library is needed. Long histories are averaged into at most one point per
// pixel column, which also smooths the GAN losses' step-to-step noise.
#include <cmath>
#include <string>
#include <vector>

namespace sg::train {

struct Series {
  std::string name;
  std::vector<double> x, y;  // non-finite y values are skipped
  unsigned char rgb[3];
};

// PNG bytes, width x height pixels; the y range covers the 1st..99th percentile of all series.
// Text is drawn at scale 1 up to 1279 x 719 pixels, larger images scale it by whole numbers.
std::string plot_png(const std::vector<Series>& series, int width = 640, int height = 360);

// Panels stacked top to bottom, each a plot as plot_png draws it (its own legend, axes and
// ticks), width x panel_height pixels each, so curves of different units (losses, opacities,
// discriminator scores) are read against their own axes. A panel with y_lo < y_hi finite keeps
// that y range (opacity: 0..1) instead of the percentiles.
struct Panel {
  std::vector<Series> series;
  double y_lo = NAN, y_hi = NAN;
};
std::string plot_panels_png(const std::vector<Panel>& panels, int width = 640, int panel_height = 240);

// A tick value as short as `step` (the distance between ticks, 1, 2 or 5 x 10^k) allows:
// 0.5, 12, 0.004, 1.2e-3 (below 1e-3 and from 1e6 on, a power of ten), never "-0".
std::string tick_label(double v, double step);

}  // namespace sg::train
