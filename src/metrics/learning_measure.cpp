#include "metrics/learning_measure.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "core/error.h"
#include "metrics/silhouette.h"

namespace sg::metrics {

LearningDistances learning_distances(const LearningSet& x, const LearningSet& reference,
                                     const KidOptions& options) {
  if (!x.features.defined() || !reference.features.defined())
    throw FormatError("learning_distances: both sides need image features");
  KidOptions k = options;
  k.subset_size = std::min({k.subset_size, x.features.size(0), reference.features.size(0)});
  LearningDistances d;
  const KidResult f = kernel_inception_distance(x.features, reference.features, k);
  d.kid_features = f.mean;
  d.kid_features_std = f.std;
  if (x.silhouettes.defined() && reference.silhouettes.defined()) {
    const KidResult s = kernel_inception_distance(x.silhouettes, reference.silhouettes, k);
    d.has_silhouette = true;
    d.silhouette_kid = s.mean;
    d.silhouette_kid_std = s.std;
    d.silhouette_iou = nearest_soft_iou(x.silhouettes, reference.silhouettes);
  }
  return d;
}

std::optional<double> normalised_score(double value, double untrained, double real_vs_real) {
  if (!(untrained > real_vs_real)) return std::nullopt;
  return (untrained - value) / (untrained - real_vs_real);
}

LearningMeasure learning_measure(const LearningSet& generated, const LearningSet* untrained,
                                 const LearningSet& real_a, const LearningSet& real_b,
                                 const KidOptions& options) {
  LearningMeasure m;
  m.generated = learning_distances(generated, real_b, options);
  m.real_vs_real = learning_distances(real_a, real_b, options);
  if (!untrained) return m;
  m.untrained = learning_distances(*untrained, real_b, options);
  const LearningDistances& u = *m.untrained;
  m.score_features = normalised_score(m.generated.kid_features, u.kid_features, m.real_vs_real.kid_features);
  if (m.generated.has_silhouette && u.has_silhouette && m.real_vs_real.has_silhouette)
    m.score_silhouette = normalised_score(m.generated.silhouette_kid, u.silhouette_kid, m.real_vs_real.silhouette_kid);
  int n = 0;
  double sum = 0;
  for (const auto& s : {m.score_features, m.score_silhouette})
    if (s) sum += *s, ++n;
  if (n) m.score = sum / n;
  return m;
}

nlohmann::json learning_distances_json(const LearningDistances& d) {
  nlohmann::json j = {{"kid_random_features", d.kid_features}, {"kid_random_features_std", d.kid_features_std}};
  if (d.has_silhouette) {
    j["silhouette_kid"] = d.silhouette_kid;
    j["silhouette_kid_std"] = d.silhouette_kid_std;
    j["silhouette_iou"] = d.silhouette_iou;
  }
  return j;
}

}  // namespace sg::metrics
