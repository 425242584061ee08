#include "model/shading.h"

#include "core/error.h"
#include "model/camera.h"

namespace sg::model {

Shaded lambertian(const at::Tensor& albedo, const at::Tensor& normal, const at::Tensor& light,
                  double l_ratio) {
  const int64_t b = albedo.size(0);
  at::Tensor diffuse;
  if (normal.defined()) {
    at::Tensor d = at::cat({light.slice(1, 2), at::ones({b, 1}, light.options())}, 1);
    d = d / (at::norm(d, 2, {-1}, true) + 1e-7);
    // The canonical camera at (0, 0, 1) looking at the origin: its rotation is the identity.
    at::Tensor origin = at::zeros({1, 3}, light.options());
    origin.select(1, 2).fill_(1);
    at::Tensor m = cam2world_matrix(-origin, origin).expand({b, 4, 4});
    at::Tensor l = at::bmm(m.slice(1, 0, 3).slice(2, 0, 3), d.reshape({b, 1, 3}).permute({0, 2, 1}))
                       .permute({0, 2, 1})
                       .expand_as(normal);
    diffuse = (normal * l).sum(-1, true).clamp(0, 1);
    diffuse = at::where(at::isnan(diffuse), at::ones_like(diffuse), diffuse);
  } else {
    if (l_ratio != 0) throw StageError("lambertian: normals are required when l_ratio != 0");
    diffuse = at::ones_like(albedo.slice(-1, 0, 1));
  }
  at::Tensor ambience = light.slice(1, 0, 1).unsqueeze(1) / 2 + 0.5;
  at::Tensor kd = light.slice(1, 1, 2).unsqueeze(1) / 2 + 0.5;
  at::Tensor shade = ambience + kd * diffuse;
  shade = l_ratio * shade + (1 - l_ratio);
  return {(albedo * shade).clamp(0, 1), shade};
}

LightPrior make_light_prior(const at::Tensor& mean, const at::Tensor& cov,
                            const std::string& source) {
  if (mean.dim() != 1 || mean.size(0) != 4) {
    throw FormatError(source + ": light prior 'mean' must have shape (4), got " +
                      c10::str(mean.sizes()));
  }
  if (cov.dim() != 2 || cov.size(0) != 4 || cov.size(1) != 4) {
    throw FormatError(source + ": light prior 'cov' must have shape (4, 4), got " +
                      c10::str(cov.sizes()));
  }
  LightPrior p;
  p.mean = mean.to(at::kFloat);
  p.cov = cov.to(at::kFloat);
  auto [L, info] = at::linalg_cholesky_ex(p.cov);
  if (info.item<int>() != 0) {
    throw FormatError(source + ": light prior 'cov' is not positive definite");
  }
  p.scale_tril = L;
  return p;
}

at::Tensor sample_light(const LightPrior& prior, int64_t n, Draws& draws) {
  at::NoGradGuard g;
  at::Tensor eps = draws.normal(Draw::light, {n, 4}, prior.mean.options());
  return prior.mean + at::matmul(prior.scale_tril, eps.unsqueeze(-1)).squeeze(-1);
}

}  // namespace sg::model
