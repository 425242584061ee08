#pragma once
// Images as the reference's evaluation sees them (spec §10.1-10.2, §12.19): generator output
// saved as 8-bit files, real images resized with nearest neighbours and randomly flipped, both
// optionally through a JPEG round trip (PIL's defaults: quality 75, 4:2:0 chroma) before the
// Inception network reads them back.
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace sg::metrics {

// (B, 3, S, S) in [-1, 1] -> uint8 as the reference saves it: clamp to [-1, 1], map to [0, 1],
// x * 255 + 0.5, truncated.
at::Tensor generator_output_to_uint8(const at::Tensor& rgb);

// (B, 3, H, W) uint8 through JPEG encode + decode at `quality` (libjpeg-turbo, 4:2:0).
at::Tensor jpeg_round_trip(const at::Tensor& images, int quality);

// (B, H, W, C) uint8 (the shards' layout) -> (B, C, size, size), torch's 'nearest' resize
// (source index floor(dst * in / out)), with the images whose `flip` entry is true mirrored
// left-right first (the reference flips before resizing for CelebA-like recipes).
at::Tensor shard_images_to_nchw(const at::Tensor& nhwc, int64_t size, const at::Tensor& flip = {});

}  // namespace sg::metrics
