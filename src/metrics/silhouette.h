#pragma once
// Silhouettes as a learning measure (issue 20): where a generator puts opaque matter, compared
// with where the synthetic set's objects are. A generator that has not learned the data's
// objects draws fog or speckle whose opacity has no object's outline; one that has, draws
// masks like the ground truth's. Nothing here needs inversion or downloaded weights.
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace sg::metrics {

// Per-pixel opacity of a render: the sum of each ray's compositing weights, (B, S*S, K, 1) as
// staged_forward returns them with Tiling::keep_samples -> (B, S, S). It is 1 - the light that
// passes the whole ray; the integration's last interval reaches to infinity (spec §4.5, delta
// 1e10), so a ray whose last sample has any density counts as opaque, as it renders.
at::Tensor opacity_from_weights(const at::Tensor& weights, int64_t img_size);

// (B, S, S) masks or opacities in [0, 1] -> (B, n*n) float32 rows, area-averaged to n px
// (n <= S): the silhouettes the distances compare. Averaging keeps the fraction of each cell
// that is covered, so a mask shifted by less than a cell still moves the vector.
at::Tensor silhouette_vectors(const at::Tensor& masks, int64_t n);

// Soft IoU (Ruzicka similarity) sum(min(a, b)) / sum(max(a, b)) of every row of `a` with every
// row of `b`: (na, nb) float64; 1 for two empty rows. For 0/1 masks it is the usual IoU.
at::Tensor soft_iou(const at::Tensor& a, const at::Tensor& b);

// Mean over the rows of `a` of the best soft IoU with any row of `b`: how well the nearest real
// silhouette matches each generated one (1: every generated mask has an exact real twin).
double nearest_soft_iou(const at::Tensor& a, const at::Tensor& b);

}  // namespace sg::metrics
