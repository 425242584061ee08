#pragma once
// Shape accuracy against ground truth, as the paper's BFM study measures it (ShadeGAN §4 follows
// Unsup3d, Wu et al. 2020, whose evaluation code defines the two numbers):
//   scale-invariant depth error (SIDE), per image over the masked pixels:
//     SIDE = sqrt( mean_m (D - mean_m D)^2 ),  D = log d_pred - log d_true
//   (Eigen et al.'s scale-invariant error: a global scale of the depth moves every D by the same
//   log factor, so it cancels);
//   mean angle deviation (MAD), per image over the masked pixels: the mean of
//     acos(clamp(n_pred . n_true, -1, 1)) in degrees, after normalising both normals.
// The dataset numbers are the mean (and std) of the per-image values. Images are (B, H, W) depth
// maps, (B, H, W, 3) normal maps and (B, H, W) masks (non-zero = evaluated); math in float64.
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace sg::metrics {

// (B) per-image SIDE. FormatError for mismatched shapes, an image with an empty mask, or a
// non-positive depth inside the mask.
at::Tensor scale_invariant_depth_error(const at::Tensor& depth_pred, const at::Tensor& depth_true,
                                       const at::Tensor& mask);

// (B) per-image MAD in degrees. FormatError for mismatched shapes, an empty mask, or a zero
// normal inside the mask.
at::Tensor mean_angle_deviation(const at::Tensor& normal_pred, const at::Tensor& normal_true,
                                const at::Tensor& mask);

// Normals of a depth map, as Unsup3d derives both its predicted and its ground-truth normals:
// back-project every pixel to the camera-space point depth · d(pixel) (d the unit ray of the
// reference camera, spec §4.2, with this fov), take central differences along the row (tu) and
// the column (tv), and n = tv × tu, unit, facing the camera (+z in camera space). (B, H, W)
// depth along the unit ray → (B, H, W, 3) float64; the one-pixel border, which has no central
// difference, is zero (the eroded mask excludes it). Why a second normal: the renderer's normals
// are density gradients, noisy wherever the density is speckled even when the surface it draws
// is right; normals of the depth map measure the drawn surface, as Unsup3d's MAD does.
at::Tensor normals_from_depth(const at::Tensor& depth, double fov_degrees);

// Unsup3d's one-pixel erosion of a (B, H, W) mask (3x3 mean over zero padding > 0.99): keeps
// the pixels whose 8 neighbours are all inside, which drops the silhouette's edge, where depth
// and normals of either side are unreliable. The image border counts as outside.
at::Tensor erode_mask(const at::Tensor& mask);

struct ShapeAccuracy {
  int64_t images = 0;
  double side_mean = 0, side_std = 0;  // population std over images
  double mad_mean = 0, mad_std = 0;    // degrees, renderer normals
  double mad_depth_mean = 0, mad_depth_std = 0;  // degrees, normals of the depth maps
};

ShapeAccuracy summarize_shape_accuracy(const at::Tensor& side, const at::Tensor& mad,
                                       const at::Tensor& mad_depth);

}  // namespace sg::metrics
