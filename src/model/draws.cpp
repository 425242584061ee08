#include "model/draws.h"

#include <ATen/CPUGeneratorImpl.h>

#include "core/error.h"
#include "core/text.h"

namespace sg::model {

std::string draw_name(Draw kind) {
  switch (kind) {
    case Draw::camera: return "camera";
    case Draw::hybrid_coin: return "hybrid_coin";
    case Draw::perturbation: return "perturbation";
    case Draw::nerf_noise: return "nerf_noise";
    case Draw::pdf_uniform: return "pdf_uniform";
    case Draw::avg_latents: return "avg_latents";
    case Draw::light: return "light";
    case Draw::latent: return "latent";
  }
  return "?";
}

Draw draw_from_name(const std::string& name) {
  const Draw all[] = {Draw::camera,    Draw::hybrid_coin, Draw::perturbation, Draw::nerf_noise,
                      Draw::pdf_uniform, Draw::avg_latents, Draw::light,      Draw::latent};
  std::vector<std::string> names;
  for (Draw d : all) {
    if (draw_name(d) == name) return d;
    names.push_back(draw_name(d));
  }
  throw StageError(unknown_name_message("random draw kind", name, names));
}

void Draws::push(Draw kind, at::Tensor t) { fixed[kind].push_back(std::move(t)); }

bool Draws::has_fixed(Draw kind) const {
  auto it = fixed.find(kind);
  return it != fixed.end() && !it->second.empty();
}

at::Tensor Draws::take(Draw kind, at::IntArrayRef shape, const at::TensorOptions& opts) {
  auto& q = fixed[kind];
  at::Tensor t = q.front();
  q.pop_front();
  if (t.sizes() != shape) {
    throw StageError("fixed draw '" + draw_name(kind) + "' has shape " + c10::str(t.sizes()) +
                     " but the model asked for " + c10::str(shape));
  }
  t = t.to(opts.dtype_opt() ? opts : opts.dtype(at::kFloat));
  if (record) record->emplace_back(kind, t);
  return t;
}

at::Tensor Draws::normal(Draw kind, at::IntArrayRef shape, const at::TensorOptions& opts) {
  if (has_fixed(kind)) return take(kind, shape, opts);
  auto o = opts.dtype_opt() ? opts : opts.dtype(at::kFloat);
  // A seeded generator lives on the CPU: draw there, then move (same numbers on every device).
  at::Tensor t = !generator.defined() ? at::randn(shape, o)
                                      : at::randn(shape, generator, o.device(at::kCPU)).to(o.device());
  if (record) record->emplace_back(kind, t);
  return t;
}

at::Tensor Draws::uniform(Draw kind, at::IntArrayRef shape, const at::TensorOptions& opts) {
  if (has_fixed(kind)) return take(kind, shape, opts);
  auto o = opts.dtype_opt() ? opts : opts.dtype(at::kFloat);
  at::Tensor t = !generator.defined() ? at::rand(shape, o)
                                      : at::rand(shape, generator, o.device(at::kCPU)).to(o.device());
  if (record) record->emplace_back(kind, t);
  return t;
}

Draws seeded_draws(uint64_t seed) {
  Draws d;
  d.generator = at::detail::createCPUGenerator(seed);
  return d;
}

}  // namespace sg::model
