#include "model/volume.h"

namespace sg::model {

Integrated integrate(const PointOutputs& in, const at::Tensor& z_vals, const IntegrateOptions& opt,
                     Draws& draws) {
  at::Tensor deltas = z_vals.slice(2, 1) - z_vals.slice(2, 0, -1);
  at::Tensor delta_inf = 1e10 * at::ones_like(deltas.slice(2, 0, 1));
  deltas = at::cat({deltas, delta_inf}, -2);

  at::Tensor noise = draws.normal(Draw::nerf_noise, in.sigma.sizes(), in.sigma.options()) *
                     opt.noise_std;
  at::Tensor density = opt.clamp_mode == ClampMode::softplus ? at::softplus(in.sigma + noise)
                                                             : at::relu(in.sigma + noise);
  at::Tensor alphas = 1 - at::exp(-deltas * density);
  at::Tensor shifted = at::cat({at::ones_like(alphas.slice(2, 0, 1)), 1 - alphas + 1e-10}, -2);
  at::Tensor weights = alphas * at::cumprod(shifted, -2).slice(2, 0, -1);
  at::Tensor wsum = weights.sum(2);
  if (opt.last_back) {
    // In place on the last sample as the reference does; wsum is not recomputed.
    weights = weights.clone();
    weights.slice(2, -1) += (1 - wsum).unsqueeze(2);
  }

  Integrated out;
  at::Tensor rgb = at::sum(weights * in.rgb, -2);
  out.depth = at::sum(weights * z_vals, -2) / (wsum + 1e-5);
  const double n = static_cast<double>(z_vals.size(2));
  out.depth_std = at::pow(at::sum(weights * at::pow(z_vals - out.depth.unsqueeze(2), 2), 2) /
                              ((wsum + 1e-5) * (n - 1) / n),
                          0.5);
  if (in.normal.defined()) {
    at::Tensor nrm = at::sum(weights * in.normal, -2);
    out.normal = nrm / (at::norm(nrm, 2, {-1}, true) + 1e-7);
  }
  if (opt.white_back) rgb = rgb + 1 - wsum;
  out.rgb = rgb.clamp(0, 1);
  out.weights = weights;
  return out;
}

at::Tensor sample_pdf(const at::Tensor& bins, const at::Tensor& weights_in, int64_t n, bool det,
                      Draws& draws, double eps) {
  const int64_t rays = weights_in.size(0), m = weights_in.size(1);
  at::Tensor weights = weights_in + eps;
  at::Tensor pdf = weights / at::sum(weights, -1, true);
  at::Tensor cdf = at::cumsum(pdf, -1);
  cdf = at::cat({at::zeros_like(cdf.slice(1, 0, 1)), cdf}, -1);

  at::Tensor u = det ? at::linspace(0, 1, n, bins.options()).expand({rays, n})
                     : draws.uniform(Draw::pdf_uniform, {rays, n}, bins.options());
  u = u.contiguous();
  at::Tensor inds = at::searchsorted(cdf, u);
  at::Tensor below = at::clamp_min(inds - 1, 0);
  at::Tensor above = at::clamp_max(inds, m);
  at::Tensor sampled = at::stack({below, above}, -1).view({rays, 2 * n});
  at::Tensor cdf_g = at::gather(cdf, 1, sampled).view({rays, n, 2});
  at::Tensor bins_g = at::gather(bins, 1, sampled).view({rays, n, 2});
  at::Tensor denom = cdf_g.select(2, 1) - cdf_g.select(2, 0);
  denom = at::where(denom < eps, at::ones_like(denom), denom);
  return bins_g.select(2, 0) +
         (u - cdf_g.select(2, 0)) / denom * (bins_g.select(2, 1) - bins_g.select(2, 0));
}

}  // namespace sg::model
