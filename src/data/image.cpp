#include "data/image.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"

namespace sg::data {

Image hflip(const Image& in) {
  Image out(in.width, in.height);
  for (int y = 0; y < in.height; ++y)
    for (int x = 0; x < in.width; ++x) std::memcpy(out.px(in.width - 1 - x, y), in.px(x, y), 3);
  return out;
}

Image center_crop(const Image& in, int size) {
  if (in.width < size || in.height < size)
    throw FormatError("center_crop " + std::to_string(size) + " of a " + std::to_string(in.width) +
                      "x" + std::to_string(in.height) + " image");
  // round() of an exact .5 goes away from zero here, matching torchvision 0.9's int(round())
  // only for even differences; spec §7 notes the tie rule is unconfirmed and CelebA has none.
  const int x0 = static_cast<int>(std::lround((in.width - size) / 2.0));
  const int y0 = static_cast<int>(std::lround((in.height - size) / 2.0));
  Image out(size, size);
  for (int y = 0; y < size; ++y) std::memcpy(out.px(0, y), in.px(x0, y0 + y), size_t(size) * 3);
  return out;
}

static Image gather(const Image& in, const std::vector<int>& xs, const std::vector<int>& ys) {
  Image out(static_cast<int>(xs.size()), static_cast<int>(ys.size()));
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x) std::memcpy(out.px(x, y), in.px(xs[x], ys[y]), 3);
  return out;
}

Image resize_nearest_tensor(const Image& in, int w, int h) {
  std::vector<int> xs(w), ys(h);
  // torch computes scale = in/out in float and floors dst*scale; exact for the power-of-two
  // ratios used here.
  const float sx = static_cast<float>(in.width) / w, sy = static_cast<float>(in.height) / h;
  for (int x = 0; x < w; ++x) xs[x] = std::min(static_cast<int>(std::floor(x * sx)), in.width - 1);
  for (int y = 0; y < h; ++y) ys[y] = std::min(static_cast<int>(std::floor(y * sy)), in.height - 1);
  return gather(in, xs, ys);
}

Image resize_nearest_pil(const Image& in, int w, int h) {
  std::vector<int> xs(w), ys(h);
  const double sx = static_cast<double>(in.width) / w, sy = static_cast<double>(in.height) / h;
  for (int x = 0; x < w; ++x)
    xs[x] = std::min(static_cast<int>(std::floor((x + 0.5) * sx)), in.width - 1);
  for (int y = 0; y < h; ++y)
    ys[y] = std::min(static_cast<int>(std::floor((y + 0.5) * sy)), in.height - 1);
  return gather(in, xs, ys);
}

namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // PIL's Resample.c

struct Coeffs {
  std::vector<int> start, count;
  std::vector<int32_t> k;  // count_max per output
  int ksize = 0;
};

// PIL's precompute_coeffs for the bilinear (triangle) filter, then normalize_coeffs_8bpc.
Coeffs bilinear_coeffs(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = 1.0 * filterscale;
  Coeffs c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.start.resize(out_size);
  c.count.resize(out_size);
  c.k.assign(static_cast<size_t>(out_size) * c.ksize, 0);
  std::vector<double> kk(c.ksize);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      const double t = std::fabs((x + xmin - center + 0.5) * ss);
      const double w = t < 1.0 ? 1.0 - t : 0.0;
      kk[x] = w;
      ww += w;
    }
    for (int x = 0; x < xmax; ++x) {
      const double w = ww != 0.0 ? kk[x] / ww : 0.0;
      c.k[static_cast<size_t>(xx) * c.ksize + x] =
          static_cast<int32_t>(w < 0 ? std::trunc(-0.5 + w * (1 << kPrecisionBits))
                                     : std::trunc(0.5 + w * (1 << kPrecisionBits)));
    }
    c.start[xx] = xmin;
    c.count[xx] = xmax;
  }
  return c;
}

uint8_t clip8(int64_t v) {
  v >>= kPrecisionBits;
  return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

}  // namespace

Image resize_bilinear_pil(const Image& in, int w, int h) {
  const Coeffs cx = bilinear_coeffs(in.width, w), cy = bilinear_coeffs(in.height, h);
  // Horizontal pass over every source row (PIL restricts to the rows the vertical pass needs;
  // the values are the same).
  Image tmp(w, in.height);
  const int64_t half = int64_t(1) << (kPrecisionBits - 1);
  for (int y = 0; y < in.height; ++y)
    for (int x = 0; x < w; ++x) {
      const int32_t* k = &cx.k[static_cast<size_t>(x) * cx.ksize];
      for (int ch = 0; ch < 3; ++ch) {
        int64_t ss = half;
        for (int i = 0; i < cx.count[x]; ++i) ss += int64_t(in.px(cx.start[x] + i, y)[ch]) * k[i];
        tmp.px(x, y)[ch] = clip8(ss);
      }
    }
  Image out(w, h);
  for (int y = 0; y < h; ++y) {
    const int32_t* k = &cy.k[static_cast<size_t>(y) * cy.ksize];
    for (int x = 0; x < w; ++x)
      for (int ch = 0; ch < 3; ++ch) {
        int64_t ss = half;
        for (int i = 0; i < cy.count[y]; ++i) ss += int64_t(tmp.px(x, cy.start[y] + i)[ch]) * k[i];
        out.px(x, y)[ch] = clip8(ss);
      }
  }
  return out;
}

void shorter_side_dims(int w, int h, int size, int* out_w, int* out_h) {
  if (w <= h) {
    *out_w = size;
    *out_h = static_cast<int>(static_cast<int64_t>(size) * h / w);
  } else {
    *out_h = size;
    *out_w = static_cast<int>(static_cast<int64_t>(size) * w / h);
  }
}

}  // namespace sg::data
