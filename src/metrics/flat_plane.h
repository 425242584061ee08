#pragma once
// The shape baseline every learned shape has to beat: one flat plane per image, in the best
// orientation for the metric (issue 20's "best-oriented flat plane" row). Each image's
// ground truth alone decides the plane, so the baseline costs nothing to compute and shows the
// shape metrics' floor of meaning: a generator whose normals are no better than this has learned
// a silhouette, not a shape. Inputs as in shape_accuracy.h: (B, H, W, 3) normals, (B, H, W)
// depths along the unit ray and (B, H, W) masks (non-zero = evaluated); math in float64.
#include <ATen/core/Tensor.h>

namespace sg::metrics {

// (B) the smallest mean angle, in degrees, between one unit normal and the image's normals over
// its mask: the spherical median of the normals (Weiszfeld's iteration on the sphere from their
// normalised mean, keeping the best iterate). FormatError for mismatched shapes, an empty mask
// or a zero normal inside it.
at::Tensor best_plane_angle(const at::Tensor& normal_true, const at::Tensor& mask);

// (B) the scale-invariant depth error (shape_accuracy.h) of the plane fitted by total least
// squares to the image's back-projected points (camera of field of view `fov_degrees`, spec §4.2)
// against the true depth: the plane's depth along each ray is (n . c) / (n . d).
at::Tensor plane_fit_depth_error(const at::Tensor& depth_true, const at::Tensor& mask, double fov_degrees);

}  // namespace sg::metrics
