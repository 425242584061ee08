#pragma once
// The one place every random number of the model comes from. A test (or a resumed run) can
// queue fixed tensors per kind; a queued tensor replaces the next draw of that kind, so the
// reference's captured draws replay exactly. Otherwise draws come from `generator` (or the global
// default generator when it is undefined), with the same shapes and call order as the
// reference, so seeding the same generator replays the reference's random stream too.
#include <ATen/ATen.h>

#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace sg::model {

enum class Draw {
  camera,        // sample_camera_positions: yaw then pitch draws, (n,1) each ((n,1,4) truncated)
  hybrid_coin,   // the 'hybrid' camera mode's coin, (1)
  perturbation,  // stratified offsets inside each ray interval, uniform (B, R, N, 1)
  nerf_noise,    // density noise in every integration, normal (B, R, K, 1)
  pdf_uniform,   // importance-sampling uniforms, (B*R, N)
  avg_latents,   // latents averaged for truncation, normal (10000, z_dim)
  light,         // light prior's standard normal, (n, 4)
  latent,        // z for training / previews, normal (n, z_dim)
};
std::string draw_name(Draw kind);
// The kind named `name` (draw_name's inverse); StageError listing the valid names otherwise.
Draw draw_from_name(const std::string& name);

struct Draws {
  at::Generator generator;  // undefined: the global default CPU generator
  std::map<Draw, std::deque<at::Tensor>> fixed;
  // When set, every draw handed out (fixed or random) is appended here in call order: tests
  // record one batch's draws and replay slices of them (e.g. split over MPI ranks).
  std::vector<std::pair<Draw, at::Tensor>>* record = nullptr;

  // Queue `t` as the next draw of `kind` (its shape must match the request).
  void push(Draw kind, at::Tensor t);
  bool has_fixed(Draw kind) const;
  at::Tensor normal(Draw kind, at::IntArrayRef shape, const at::TensorOptions& opts = {});
  at::Tensor uniform(Draw kind, at::IntArrayRef shape, const at::TensorOptions& opts = {});

 private:
  at::Tensor take(Draw kind, at::IntArrayRef shape, const at::TensorOptions& opts);
};

// A Draws whose random stream starts from `seed` (its own generator; the global one is untouched).
Draws seeded_draws(uint64_t seed);

}  // namespace sg::model
