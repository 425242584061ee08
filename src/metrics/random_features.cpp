#include "metrics/random_features.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cmath>

#include "core/error.h"
#include "data/rng.h"

namespace sg::metrics {

namespace {

struct Layer {
  int64_t in, out;
};
constexpr Layer kLayers[] = {{3, 32}, {32, 64}, {64, 128}};
// Pooled grid per block (colour layout, c1, c2, c3).
constexpr int64_t kGrid[] = {4, 4, 2, 1};

at::Tensor seeded_filters(uint64_t seed, int64_t layer, const Layer& l) {
  data::Rng rng(seed, static_cast<uint64_t>(layer), 0);
  const int64_t per = l.in * 9;
  std::vector<double> w(static_cast<size_t>(l.out * per));
  for (double& v : w) v = rng.normal();
  for (int64_t o = 0; o < l.out; ++o) {
    double* f = w.data() + o * per;
    double mean = 0;
    for (int64_t k = 0; k < per; ++k) mean += f[k];
    mean /= static_cast<double>(per);
    double norm = 0;
    for (int64_t k = 0; k < per; ++k) {
      f[k] -= mean;
      norm += f[k] * f[k];
    }
    const double scale = std::sqrt(2.0 / norm);
    for (int64_t k = 0; k < per; ++k) f[k] *= scale;
  }
  return at::tensor(w, at::kDouble).to(at::kFloat).view({l.out, l.in, 3, 3});
}

// relu(conv3x3) with the border replicated, so a flat image gives exactly zero.
at::Tensor conv_relu(const at::Tensor& x, const at::Tensor& w) {
  return at::relu(at::conv2d(at::pad(x, {1, 1, 1, 1}, "replicate"), w));
}

}  // namespace

RandomFeatureMap make_random_feature_map(uint64_t seed) {
  RandomFeatureMap m;
  m.seed = seed;
  for (int64_t l = 0; l < 3; ++l) m.filters.push_back(seeded_filters(seed, l, kLayers[l]));
  return m;
}

at::Tensor random_features(const RandomFeatureMap& map, const at::Tensor& images) {
  if (images.dim() != 4 || images.size(1) != 3 || images.size(2) != images.size(3))
    throw FormatError("random_features: expected (B, 3, S, S) images");
  if (images.size(2) < 8)
    throw FormatError(fmt::format("random_features: images of {} px; the map needs at least 8", images.size(2)));
  if (map.filters.size() != 3) throw FormatError("random_features: the map has no filters (make_random_feature_map)");
  at::NoGradGuard no_grad;
  at::Tensor x = images.to(at::kFloat).contiguous();
  if (x.size(2) > kRandomFeatureMaxSize) x = at::adaptive_avg_pool2d(x, {kRandomFeatureMaxSize, kRandomFeatureMaxSize});
  const at::Tensor c1 = conv_relu(x, map.filters[0]);
  const at::Tensor c2 = conv_relu(at::avg_pool2d(c1, 2), map.filters[1]);
  const at::Tensor c3 = conv_relu(at::avg_pool2d(c2, 2), map.filters[2]);
  // The colour layout in [0, 1] (black 0), the range the convolution blocks' values have: in
  // [-1, 1] the black background's -1s outweighed every other block in the kernel's x.y.
  const at::Tensor blocks[] = {(x + 1) / 2, c1, c2, c3};
  std::vector<at::Tensor> parts;
  for (int b = 0; b < 4; ++b) {
    // Convolution blocks are L2-pooled (root mean square): the ReLU'd response of a zero-sum
    // filter to an edge has about the same sum however blurred the edge is, so a plain average
    // cannot tell sharp from blurred; its root mean square can (the same sum spread thinner).
    at::Tensor f = b == 0 ? at::adaptive_avg_pool2d(blocks[b], {kGrid[b], kGrid[b]})
                          : at::adaptive_avg_pool2d(blocks[b].square(), {kGrid[b], kGrid[b]}).sqrt();
    f = f.flatten(1);
    // Every block weighs the same in x.y / D (see the header).
    const double scale = std::sqrt(static_cast<double>(kRandomFeatureWidth) / (4.0 * static_cast<double>(f.size(1))));
    parts.push_back(f * scale);
  }
  return at::cat(parts, 1).contiguous();
}

}  // namespace sg::metrics
