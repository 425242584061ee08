#include "metrics/eval_images.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "data/codec.h"

namespace sg::metrics {

at::Tensor generator_output_to_uint8(const at::Tensor& rgb) {
  at::Tensor x = (rgb.to(at::kFloat).clamp(-1, 1) + 1) / 2;
  return (x * 255 + 0.5).floor().clamp(0, 255).to(at::kByte);
}

at::Tensor jpeg_round_trip(const at::Tensor& images, int quality) {
  if (images.dim() != 4 || images.size(1) != 3 || images.scalar_type() != at::kByte)
    throw StageError("jpeg_round_trip: expected (B, 3, H, W) uint8 images");
  const int64_t B = images.size(0), H = images.size(2), W = images.size(3);
  at::Tensor nhwc = images.permute({0, 2, 3, 1}).contiguous();
  at::Tensor out = at::empty_like(nhwc);
  for (int64_t b = 0; b < B; ++b) {
    data::Image img(static_cast<int>(W), static_cast<int>(H));
    std::memcpy(img.rgb.data(), nhwc[b].data_ptr<uint8_t>(), img.rgb.size());
    const data::Decoded d = data::decode_jpeg(data::encode_jpeg(img, quality));
    std::memcpy(out[b].data_ptr<uint8_t>(), d.image.rgb.data(), d.image.rgb.size());
  }
  return out.permute({0, 3, 1, 2}).contiguous();
}

at::Tensor shard_images_to_nchw(const at::Tensor& nhwc, int64_t size, const at::Tensor& flip) {
  at::Tensor x = nhwc.permute({0, 3, 1, 2});
  if (flip.defined()) {
    at::Tensor flipped = x.flip({3});
    x = at::where(flip.to(at::kBool).view({-1, 1, 1, 1}), flipped, x);
  }
  const int64_t in_h = x.size(2), in_w = x.size(3);
  if (in_h == size && in_w == size) return x.contiguous();
  auto index = [&](int64_t in) {
    // torch 'nearest': floor(dst * (in / out)) in float32, as upsample_nearest2d computes it.
    const float scale = static_cast<float>(in) / static_cast<float>(size);
    std::vector<int64_t> idx(size);
    for (int64_t d = 0; d < size; ++d)
      idx[d] = std::min<int64_t>(static_cast<int64_t>(std::floor(static_cast<float>(d) * scale)), in - 1);
    return at::tensor(idx, at::kLong);
  };
  return x.index_select(2, index(in_h)).index_select(3, index(in_w)).contiguous();
}

}  // namespace sg::metrics
