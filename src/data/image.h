#pragma once
// An 8-bit RGB image in row-major, interleaved order (what the codecs produce and the shards
// store), and the handful of geometric operations the dataset recipes of spec §7 use, each with
// the exact sampling rule of the library the reference calls (PIL or torch).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace sg::data {

// An allocator whose resize leaves new bytes as they come (default-initialised, not zeroed).
// A decoder overwrites every byte of its output: zeroing 196 kB first cost the sharder 5% of its
// CPU, since each shard's images are fresh memory, not the hot buffer a one-at-a-time decode
// gets back from malloc.
template <typename T>
struct UninitAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = UninitAllocator<U>;
  };
  UninitAllocator() = default;
  template <typename U>
  UninitAllocator(const UninitAllocator<U>&) noexcept {}
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
using Pixels = std::vector<uint8_t, UninitAllocator<uint8_t>>;

struct Image {
  int width = 0, height = 0;
  Pixels rgb;  // height * width * 3
  Image() = default;
  Image(int w, int h) : width(w), height(h), rgb(static_cast<size_t>(w) * h * 3, 0) {}
  // Every byte left for the caller to write (a decoder's output).
  static Image uninitialized(int w, int h) {
    Image img;
    img.width = w;
    img.height = h;
    img.rgb.resize(static_cast<size_t>(w) * h * 3);
    return img;
  }
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
