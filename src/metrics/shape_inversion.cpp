#include "metrics/shape_inversion.h"

#include <torch/torch.h>

#include "core/error.h"
#include "model/draws.h"

namespace sg::metrics {

InversionResult invert_generator(model::GeneratorImpl& generator, const at::Tensor& target,
                                 const at::Tensor& pose, const at::Tensor& light,
                                 model::RenderOptions opt, const InversionOptions& options) {
  const int64_t B = target.size(0);
  if (target.dim() != 4 || target.size(1) != 3 || target.size(2) != opt.img_size ||
      target.size(3) != opt.img_size)
    throw StageError("invert_generator: target must be (B, 3, " + std::to_string(opt.img_size) + ", " +
                     std::to_string(opt.img_size) + "), got " + c10::str(target.sizes()));
  opt.nerf_noise = 0;
  opt.l_ratio = 1;

  // Only z is optimised: switch the weights' gradients off for the duration (restored after).
  std::vector<std::pair<at::Tensor, bool>> saved;
  for (auto& p : generator.parameters()) {
    saved.emplace_back(p, p.requires_grad());
    p.requires_grad_(false);
  }
  struct Restore {
    std::vector<std::pair<at::Tensor, bool>>& saved;
    ~Restore() {
      for (auto& [p, r] : saved) p.requires_grad_(r);
    }
  } restore{saved};

  torch::AutoGradMode grad(true);
  const at::Tensor tgt = target.to(at::kFloat).detach();
  at::Tensor z = (options.init.defined() ? options.init.to(torch::kFloat).clone()
                                         : torch::zeros({B, generator.cfg.z_dim}, torch::kFloat))
                     .detach()
                     .requires_grad_(true);
  torch::optim::Adam adam({z}, torch::optim::AdamOptions(options.lr));
  InversionResult out;
  for (int64_t step = 0; step < options.steps; ++step) {
    // The same sample positions every step (one seeded stream per image batch): the objective
    // is then a fixed function of z, and Adam converges instead of chasing sampling noise.
    model::Draws draws = model::seeded_draws(options.seed);
    adam.zero_grad();
    model::GeneratorOutput g = generator.forward(z, light, opt, draws, pose);
    at::Tensor loss = torch::mse_loss(g.rgb, tgt);
    loss.backward();
    adam.step();
    out.loss.push_back(loss.item<double>());
    if (options.on_step) options.on_step();
  }

  torch::NoGradGuard no_grad;
  out.z = z.detach().clone();
  auto [freq, phase] = generator.siren->mapping_network->forward(out.z);
  model::Draws draws = model::seeded_draws(options.seed);
  model::RenderOptions final_opt = opt;
  final_opt.rt_normal = true;
  model::GeneratorOutput g = generator.staged_forward_with_codes(freq, phase, light, final_opt, draws, pose);
  out.rgb = g.rgb;
  out.depth = g.depth;
  out.normal = g.normal.permute({0, 2, 3, 1}).contiguous();
  return out;
}

}  // namespace sg::metrics
