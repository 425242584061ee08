#pragma once
// Rendered maps as 8-bit images, with render.py's conventions (spec §8, §15.9): every value is
// clamped to [0, 1], then x * 255 + 0.5 truncated; single-channel maps become grey RGB.
#include <ATen/ATen.h>

#include <vector>

#include "data/image.h"

namespace sg::render {

// (3, H, W) or (H, W) in [0, 1].
data::Image to_image(const at::Tensor& t);
// depth (H, W): (depth - ray_start) / (ray_end - ray_start) then min-max normalised over the
// image (render.py's; the first step does not change the result, the min-max does it all). A
// flat map becomes black.
data::Image depth_image(const at::Tensor& depth);
// unit normals (3, H, W) -> n / 2 + 0.5.
data::Image normal_image(const at::Tensor& normal);
// shading (H, W) / its maximum.
data::Image shading_image(const at::Tensor& shading);
// The diffuse term (shading - k_a) / k_d with k = x / 2 + 0.5 of the light (a, d, dx, dy).
data::Image diffuse_image(const at::Tensor& shading, const at::Tensor& light);

// Tiles of equal size in rows (a row may be shorter), `pad` pixels of `background` between them.
data::Image contact_sheet(const std::vector<std::vector<data::Image>>& rows, int pad = 2,
                          uint8_t background = 255);

}  // namespace sg::render
