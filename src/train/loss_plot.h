#pragma once
// The loss curves as a PNG, drawn directly into an RGB buffer (axes, light grid lines, one
// polyline per series, a colour swatch per series in the top-left corner in series order), so
// no plotting library is needed. Long histories are averaged into at most one point per pixel
// column, which also smooths the GAN losses' step-to-step noise.
#include <string>
#include <vector>

namespace sg::train {

struct Series {
  std::string name;
  std::vector<double> x, y;  // non-finite y values are skipped
  unsigned char rgb[3];
};

// PNG bytes, width x height pixels; the y range covers the 1st..99th percentile of all series.
std::string plot_png(const std::vector<Series>& series, int width = 640, int height = 360);

}  // namespace sg::train
