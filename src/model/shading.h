#pragma once
// Lambertian shading (spec §2.5) and the light prior (spec §2.4).
#include <ATen/ATen.h>

#include "model/draws.h"

namespace sg::model {

struct Shaded {
  at::Tensor rgb;      // (B, R, 3) clamp(albedo * shade, 0, 1)
  at::Tensor shading;  // (B, R, 1)
};

// albedo (B, R, 3) in [0, 1]; normal (B, R, 3) unit, or undefined when l_ratio == 0 (the shade is
// then exactly 1, so normals need not be computed); light (B, 4) = (a, d, dx, dy).
// shade = l_ratio (k_a + k_d clamp(n . L, 0, 1)) + (1 - l_ratio), k = x/2 + 0.5, NaN diffuse -> 1,
// L = normalize(dx, dy, 1) rotated by the canonical camera (the identity): fixed in world space.
Shaded lambertian(const at::Tensor& albedo, const at::Tensor& normal, const at::Tensor& light,
                  double l_ratio);

// Multivariate normal over the 4-vector light (mean (4), cov (4, 4)); samples mean + L eps with
// L the Cholesky factor of cov, eps ~ N(0, I) from Draw::light.
struct LightPrior {
  at::Tensor mean;        // (4)
  at::Tensor cov;         // (4, 4)
  at::Tensor scale_tril;  // (4, 4)
};
// Checks shapes and positive definiteness; `source` names where mean/cov came from in errors.
LightPrior make_light_prior(const at::Tensor& mean, const at::Tensor& cov,
                            const std::string& source);
at::Tensor sample_light(const LightPrior& prior, int64_t n, Draws& draws);

}  // namespace sg::model
