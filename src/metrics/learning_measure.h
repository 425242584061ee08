#pragma once
// The learning measure of issue 20: how far a generator has come from its untrained self toward
// the data, with no inversion and no downloaded weights. Two distances to one reference set of
// real images (half B of the held-out reals):
//   kid_random_features  KID (kid.h: unbiased MMD^2, cubic kernel) on random_features.h's fixed,
//                        seeded features of the rgb images
//   silhouette_kid       KID on the silhouettes (silhouette.h: opacity for generated images, the
//                        true mask for real ones) area-averaged to a small grid
//   silhouette_iou       readable companion: the mean soft IoU of each silhouette to its nearest
//                        real one (1 = perfect), not part of the score
// each measured for the generator, for a freshly initialised generator of the same curriculum
// and seed (0%), and for the other half A of the reals (100%: what an ideal generator would
// score with this many images). Then per distance
//   score = (d_untrained - d) / (d_untrained - d_real_vs_real)
// and learning_score = the mean of the scores available. The three comparisons share the
// reference set and the sample size, so their KID noise is alike.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "metrics/kid.h"

namespace sg::metrics {

// One side of a comparison: (n, kRandomFeatureWidth) image features and, where masks or
// opacities exist, (n, c) silhouette vectors (undefined otherwise).
struct LearningSet {
  at::Tensor features;
  at::Tensor silhouettes;
};

struct LearningDistances {
  double kid_features = 0, kid_features_std = 0;
  bool has_silhouette = false;
  double silhouette_kid = 0, silhouette_kid_std = 0, silhouette_iou = 0;
};

// Distances of `x` to `reference`. KID uses options.subsets subsets of
// min(options.subset_size, rows of either side) rows; silhouettes only when both sides have them.
LearningDistances learning_distances(const LearningSet& x, const LearningSet& reference,
                                     const KidOptions& options);

// (untrained - value) / (untrained - real_vs_real): 0 at the untrained generator, 1 at the real
// images, above 1 closer than a second real sample. nullopt when the reference points do not
// bracket anything (untrained <= real_vs_real): the distance cannot tell them apart.
std::optional<double> normalised_score(double value, double untrained, double real_vs_real);

struct LearningMeasure {
  LearningDistances generated, real_vs_real;
  std::optional<LearningDistances> untrained;  // without an untrained generator: no scores
  std::optional<double> score_features, score_silhouette, score;
};

// All comparisons to `real_b`; `untrained` may be null.
LearningMeasure learning_measure(const LearningSet& generated, const LearningSet* untrained,
                                 const LearningSet& real_a, const LearningSet& real_b,
                                 const KidOptions& options);

// {"kid_random_features": .., "kid_random_features_std": .., "silhouette_kid": .., ...} of one
// comparison, the names metrics.json uses.
nlohmann::json learning_distances_json(const LearningDistances& d);

}  // namespace sg::metrics
