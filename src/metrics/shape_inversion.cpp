#include "metrics/shape_inversion.h"

#include <torch/torch.h>

#include "core/error.h"
#include "model/draws.h"
#include "model/shading.h"

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

  // The steps' normals are chosen by switching the generator's depth_normals (restored after, so
  // the final render below is the generator's own whatever the path).
  using Kind = InversionNormals::Kind;
  const bool shading = generator.cfg.shading;
  Kind kind = options.normals.kind;
  if (kind == Kind::trained) kind = generator.cfg.depth_normals ? Kind::depth : Kind::density;
  struct RestoreNormals {
    model::GeneratorConfig& cfg;
    bool depth_normals;
    ~RestoreNormals() { cfg.depth_normals = depth_normals; }
  } restore_normals{generator.cfg, generator.cfg.depth_normals};
  const int64_t S = opt.img_size;
  at::Tensor held;  // every:K: (B, S*S, 3) the last density step's per-pixel normals, detached

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
    // every:K holds the normals fixed between density steps rather than switching to the depth
    // map's: the objective stays the reference's (the albedo shaded by the density gradient's
    // normals), only lagging by at most K-1 steps of z, and the steps between drop just the
    // gradient that flows through the normals. every:1 takes the density branch every step.
    const bool density_step = kind == Kind::density || (kind == Kind::every && step % options.normals.k == 0);
    generator.cfg.depth_normals = !density_step;
    model::GeneratorOutput g = generator.forward(z, light, opt, draws, pose);
    at::Tensor rgb = g.rgb;
    if (shading && kind == Kind::every) {
      if (density_step) {
        held = g.normal.detach().permute({0, 2, 3, 1}).reshape({B, S * S, 3});
      } else {
        // The forward shaded with the depth map's normals (cheap, unused); reshade its albedo.
        at::Tensor shaded = model::lambertian(g.albedo, held, light, opt.l_ratio).rgb;
        rgb = shaded.reshape({B, S, S, 3}).permute({0, 3, 1, 2}) * 2 - 1;
      }
    }
    at::Tensor loss = torch::mse_loss(rgb, tgt);
    loss.backward();
    adam.step();
    out.loss.push_back(loss.item<double>());
    if (options.on_step) options.on_step();
  }

  torch::NoGradGuard no_grad;
  generator.cfg.depth_normals = restore_normals.depth_normals;
  out.z = z.detach().clone();
  auto [freq, phase] = generator.siren->mapping_network->forward(out.z);
  model::Draws draws = model::seeded_draws(options.seed);
  model::RenderOptions final_opt = opt;
  final_opt.rt_normal = true;
  model::GeneratorOutput g = generator.staged_forward_with_codes(freq, phase, light, final_opt, draws, pose);
  out.rgb = g.rgb;
  out.depth = g.depth;
  // The density gradient's normals (rt_normal computes them) even for a generator that shades
  // with its depth map's: the shape metric compares the surface the density defines, the same
  // way for every generator (pi-GAN, whose normals are only ever the density gradient, included).
  out.normal = g.density_normal.permute({0, 2, 3, 1}).contiguous();
  return out;
}

}  // namespace sg::metrics
