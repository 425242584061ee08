#pragma once
// Surface normals of a rendered depth map (ours; the curriculum's shading_normals = "depth").
// The reference shades with the normalised gradient of the SIREN's density at every sample,
// which a young generator's high-frequency density makes per-pixel noise and which costs a
// double backward. The depth map's own surface is smooth at the scale of a pixel and is what
// the shape metrics measure; its normals still carry the shading's gradient back to the density
// (through the expected depth), so the shading still constrains the shape.
#include <ATen/ATen.h>

namespace sg::model {

// depth: (B, S*S) or (B, S*S, 1) distances along each pixel's unit ray (volume.h's depth);
// origin: (B, 3) the camera positions (looking at the world origin). Returns unit world-space
// normals (B, S*S, 3), from central differences of the camera-space points averaged over 3 x 3
// pixels (replicated at the border), each turned to face its camera.
at::Tensor depth_map_normals(const at::Tensor& depth, int64_t S, double fov, const at::Tensor& origin);

}  // namespace sg::model
