#pragma once
// Volume integration and hierarchical sampling (spec §4.5-4.6).
#include <ATen/ATen.h>

#include "model/draws.h"
#include "model/options.h"

namespace sg::model {

// Per-sample SIREN outputs, each (B, R, K, C); `normal` undefined when not computed.
struct PointOutputs {
  at::Tensor sigma;   // raw density, C = 1
  at::Tensor rgb;     // C = 3, in (0, 1)
  at::Tensor normal;  // C = 3, unnormalised -d(sum sigma)/dx0
};

struct Integrated {
  at::Tensor rgb;        // (B, R, 3) clamped to [0, 1]
  at::Tensor depth;      // (B, R, 1) weighted mean distance / (W + 1e-5)
  at::Tensor depth_std;  // (B, R, 1)
  at::Tensor weights;    // (B, R, K, 1)
  at::Tensor normal;     // (B, R, 3) unit (composited then normalised), undefined without normals
};

struct IntegrateOptions {
  double noise_std = 0;
  ClampMode clamp_mode = ClampMode::relu;
  bool last_back = false;
  bool white_back = false;
};

// fancy_integration: z_vals (B, R, K, 1) sorted along K. Draws the density noise (always, even at
// noise_std 0, as the reference does).
Integrated integrate(const PointOutputs& in, const at::Tensor& z_vals, const IntegrateOptions& opt,
                     Draws& draws);

// sample_pdf: bins (N_rays, M+1), weights (N_rays, M) -> (N_rays, n) samples. det = linspace
// uniforms; otherwise `n` uniforms per ray from `draws` (Draw::pdf_uniform).
at::Tensor sample_pdf(const at::Tensor& bins, const at::Tensor& weights, int64_t n, bool det,
                      Draws& draws, double eps = 1e-5);

}  // namespace sg::model
