#pragma once
// The data's mean silhouette (issue 20): for each pixel of a size x size image, the fraction of
// the training set's images whose object covers it, from the synthetic shards' ground-truth
// masks. The training preview measures its generator's opacity inside and outside it
// (samples.h).
//
// Why the mean silhouette rather than each real batch's masks: the preview renders fixed latents
// from the mean pose, and no real image is "the" image of a latent; what the generator should
// match is the data's distribution. The synthetic objects are centred and drawn under the
// curriculum's own camera distribution, so the pixels nearly every image covers (>= 90 %) are
// where a generated object belongs, and those nearly none covers (<= 10 %) are where it does not.
// Both training flips are in the mean (each mask and its mirror), as the loader shows them.
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

namespace sg::train {

// (size, size) float32 in [0, 1]; undefined when the shards carry no masks (real photographs).
// The stored masks are area-averaged down to `size` when it divides the stored size, else
// sampled at the nearest pixel. Reads every mask once: call it before a Loader opens the shards
// (the HDF5 build is not thread-safe).
at::Tensor data_mean_silhouette(const std::string& shard_dir, int64_t size);

}  // namespace sg::train
