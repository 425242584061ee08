#pragma once
// An 8-bit RGB image in row-major, interleaved order (what the codecs produce and the shards
// store), and the handful of geometric operations the dataset recipes of spec §7 use, each with
// the exact sampling rule of the library the reference calls (PIL or torch).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace sg::data {

struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // height * width * 3
  Image() = default;
  Image(int w, int h) : width(w), height(h), rgb(static_cast<size_t>(w) * h * 3, 0) {}
  uint8_t* px(int x, int y) { return rgb.data() + (static_cast<size_t>(y) * width + x) * 3; }
  const uint8_t* px(int x, int y) const {
    return rgb.data() + (static_cast<size_t>(y) * width + x) * 3;
  }
};

Image hflip(const Image& in);
// torchvision CenterCrop: offsets round((dim - size) / 2). The image must be at least size².
Image center_crop(const Image& in, int size);
// torch F.interpolate(mode='nearest') on a tensor: source index floor(dst * in / out).
Image resize_nearest_tensor(const Image& in, int w, int h);
// PIL Image.resize(NEAREST): source index floor((dst + 0.5) * in / out).
Image resize_nearest_pil(const Image& in, int w, int h);
// PIL Image.resize(BILINEAR): separable triangle filter (support scaled up when shrinking),
// 22-bit fixed-point coefficients, horizontal pass then vertical, uint8 rounding in between.
Image resize_bilinear_pil(const Image& in, int w, int h);
// torchvision Resize(size) with an int: the shorter side becomes `size`, the longer
// int(size * long / short).
void shorter_side_dims(int w, int h, int size, int* out_w, int* out_h);

}  // namespace sg::data
