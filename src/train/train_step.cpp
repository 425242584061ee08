#include "train/train_step.h"

#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "core/text.h"
#include "mpi/mpi.h"
#include "train/grad_sync.h"
#include "train/model_setup.h"

namespace sg::train {

model::DiscriminatorOutput Discriminator::forward(const at::Tensor& img, double alpha) {
  return progressive ? progressive->forward(img, alpha) : strided->forward(img, alpha);
}

torch::nn::Module& Discriminator::module() {
  if (progressive) return *progressive;
  return *strided;
}

Discriminator make_discriminator(const std::string& name) {
  Discriminator d;
  if (name == "ProgressiveEncoderDiscriminator") d.progressive = model::ProgressiveEncoderDiscriminator();
  else if (name == "StridedDiscriminator") d.strided = model::StridedDiscriminator();
  else
    throw ConfigError(unknown_name_message("discriminator", name,
                                           {"ProgressiveEncoderDiscriminator", "StridedDiscriminator"}));
  return d;
}

std::vector<at::Tensor> g_parameters(TrainState& st) { return st.G->parameters(); }
std::vector<at::Tensor> d_parameters(TrainState& st) { return st.D.module().parameters(); }

void build_models(TrainState& st, const config::Curriculum& c, const LrPolicy& lr, bool with_ema,
                  const torch::Device& device) {
  const config::Globals& g = c.globals;
  st.device = device;
  st.G = model::Generator(generator_config(g));
  st.D = make_discriminator(g.discriminator);
  if ((g.pos_lambda > 0 || g.z_lambda > 0) && !st.D.progressive)
    throw ConfigError(c.file + ": pos_lambda/z_lambda need the ProgressiveEncoderDiscriminator (the strided one "
                               "predicts no pose or latent)");
  st.G->to(device);
  st.D.module().to(device);
  st.G->train();
  st.D.module().train();

  using torch::optim::AdamOptions;
  auto adam = [&](double lrv) {
    return AdamOptions(lrv).betas({g.betas.first, g.betas.second}).weight_decay(g.weight_decay).eps(1e-8);
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  st.g_group_roles.clear();
  if (g.unique_lr && lr.fix_unique_lr) {
    // The groups the reference meant (spec §6.4): the SIREN trunk and heads, the surface net,
    // the mapping network.
    std::vector<at::Tensor> trunk, surf, mapping;
    for (const auto& item : st.G->named_parameters()) {
      const std::string& name = item.key();
      if (name.rfind("siren.mapping_network.", 0) == 0) mapping.push_back(item.value());
      else if (name.rfind("surfacenet.", 0) == 0) surf.push_back(item.value());
      else trunk.push_back(item.value());
    }
    groups.emplace_back(trunk, std::make_unique<AdamOptions>(adam(0)));
    st.g_group_roles.push_back(0);
    if (!surf.empty()) {
      groups.emplace_back(surf, std::make_unique<AdamOptions>(adam(0)));
      st.g_group_roles.push_back(1);
    }
    groups.emplace_back(mapping, std::make_unique<AdamOptions>(adam(0)));
    st.g_group_roles.push_back(2);
  } else {
    // The reference's effective behaviour (spec §12.1): with or without unique_lr, one group
    // holding every G parameter at gen_lr x lr_ratio.
    groups.emplace_back(st.G->parameters(), std::make_unique<AdamOptions>(adam(0)));
    st.g_group_roles.push_back(0);
  }
  st.opt_G = std::make_unique<torch::optim::Adam>(std::move(groups), adam(0));
  st.opt_D = std::make_unique<torch::optim::Adam>(st.D.module().parameters(), adam(0));
  if (with_ema) {
    st.ema = model::make_ema(st.G->parameters(), 0.999);
    st.ema2 = model::make_ema(st.G->parameters(), 0.9999);
  } else {
    st.ema.reset();
    st.ema2.reset();
  }
}

namespace {

std::vector<at::Tensor> grad_copies(const std::vector<at::Tensor>& params) {
  std::vector<at::Tensor> out;
  for (const auto& p : params) out.push_back(p.grad().defined() ? p.grad().detach().clone() : at::empty({0}));
  return out;
}

void set_learning_rates(TrainState& st, const config::Resolved& r, double ratio) {
  const config::Globals& g = r.globals;
  auto apply = [&](torch::optim::OptimizerParamGroup& group, double lrv) {
    auto& o = static_cast<torch::optim::AdamOptions&>(group.options());
    o.lr(lrv);
    o.betas({g.betas.first, g.betas.second});
    o.weight_decay(g.weight_decay);
  };
  auto& gg = st.opt_G->param_groups();
  for (size_t i = 0; i < gg.size(); ++i) {
    const int role = st.g_group_roles.at(i);
    const double v = role == 0 ? r.stage.gen_lr * ratio
                     : role == 1 ? r.stage.gen_lr * 10
                                 : r.stage.gen_lr * 0.05 * ratio;
    apply(gg[i], v);
  }
  for (auto& group : st.opt_D->param_groups()) apply(group, r.stage.disc_lr);
}

// The reference's z_sampler: gaussian randn, uniform rand * 2 - 1.
at::Tensor sample_z(model::Draws& d, const config::Globals& g, int64_t n, const at::TensorOptions& o) {
  if (g.z_dist == "uniform") return d.uniform(model::Draw::latent, {n, g.latent_dim}, o) * 2 - 1;
  return d.normal(model::Draw::latent, {n, g.latent_dim}, o);
}

at::Tensor mse(const at::Tensor& a, const at::Tensor& b) { return (a - b).pow(2).mean(); }

bool finite(double v) { return std::isfinite(v); }

// The first non-finite of named scalars, "" when all are finite.
std::string first_bad(std::initializer_list<std::pair<const char*, double>> terms) {
  for (const auto& [name, v] : terms)
    if (!finite(v)) return name;
  return "";
}

}  // namespace

StepResult train_step(TrainState& st, const config::Resolved& r, const at::Tensor& real_in,
                      const LrPolicy& lr) {
  const config::Globals& g = r.globals;
  StepResult res;
  const model::RenderOptions opt = training_render_options(r);
  res.lr_ratio = lr_ratio(r);
  set_learning_rates(st, r, res.lr_ratio);
  res.alpha = model::fade_in_alpha(r.step, r.last_upsample_step, g.fade_steps);
  const int64_t B = real_in.size(0), split = r.stage.batch_split, chunk = B / split;
  const auto fopts = torch::TensorOptions().dtype(torch::kFloat).device(st.device);
  const double pct = std::max(std::pow(0.99, double(r.step) / double(g.topk_interval)), g.topk_v);

  // ---- discriminator step ----
  at::Tensor z, l, fakes, fake_pose;
  {
    torch::NoGradGuard ng;
    z = sample_z(st.draws, g, B, fopts);
    l = model::sample_light(st.prior, B, st.draws).to(fopts);
    std::vector<at::Tensor> imgs, poses;
    for (int64_t c = 0; c < split; ++c) {
      auto out = st.G->forward(z.slice(0, c * chunk, (c + 1) * chunk), l.slice(0, c * chunk, (c + 1) * chunk),
                               opt, st.draws);
      imgs.push_back(out.rgb.detach());
      poses.push_back(out.pose.detach());
    }
    fakes = at::cat(imgs);
    fake_pose = at::cat(poses);
  }
  at::Tensor real = real_in.to(fopts).detach().requires_grad_(true);
  auto rout = st.D.forward(real, res.alpha);
  at::Tensor r1 = at::zeros({}, fopts);
  if (g.r1_lambda > 0) {
    auto grad = torch::autograd::grad({rout.prediction.sum()}, {real}, {}, /*retain_graph=*/true,
                                      /*create_graph=*/true)[0];
    r1 = 0.5 * g.r1_lambda * grad.reshape({B, -1}).norm(2, 1).pow(2).mean();
  }
  auto fout = st.D.forward(fakes, res.alpha);
  at::Tensor d_identity = at::zeros({}, fopts);
  if (g.z_lambda > 0) d_identity = d_identity + mse(fout.latent, z) * g.z_lambda;
  if (g.pos_lambda > 0) d_identity = d_identity + mse(fout.position, fake_pose) * g.pos_lambda;
  at::Tensor d_fake = at::softplus(fout.prediction).mean(), d_real = at::softplus(-rout.prediction).mean();
  at::Tensor d_loss = d_fake + d_real + r1 + d_identity;
  st.opt_D->zero_grad();
  d_loss.backward();
  const auto dparams = d_parameters(st);
  allreduce_mean_grads(dparams);
  if (st.capture_grads) st.captured_d_grads = grad_copies(dparams);
  res.d_grad_norm = torch::nn::utils::clip_grad_norm_(dparams, g.grad_clip);
  res.d_loss = d_loss.item<double>();
  res.r1 = r1.item<double>();
  res.d_identity = d_identity.item<double>();
  res.real_score = rout.prediction.mean().item<double>();
  res.fake_score = fout.prediction.mean().item<double>();
  std::string bad = first_bad({{"d_loss.fake", d_fake.item<double>()},
                               {"d_loss.real", d_real.item<double>()},
                               {"r1", res.r1},
                               {"d_identity", res.d_identity},
                               {"d_grad_norm", res.d_grad_norm}});
  res.d_finite = !mpi::allreduce_or(!bad.empty());
  if (res.d_finite) {
    st.opt_D->step();
  } else {
    res.bad_term = bad.empty() ? "d (another rank)" : bad;
    st.opt_D->zero_grad();
  }

  // ---- generator step ----
  z = sample_z(st.draws, g, B, fopts);
  l = model::sample_light(st.prior, B, st.draws).to(fopts);
  double g_loss_sum = 0, depth_sum = 0, gid_sum = 0;
  for (int64_t c = 0; c < split; ++c) {
    const at::Tensor zc = z.slice(0, c * chunk, (c + 1) * chunk);
    auto out = st.G->forward(zc, l.slice(0, c * chunk, (c + 1) * chunk), opt, st.draws);
    auto d = st.D.forward(out.rgb, res.alpha);
    const int64_t k = static_cast<int64_t>(std::ceil(pct * double(d.prediction.size(0))));
    res.topk = k;
    at::Tensor preds = std::get<0>(at::topk(d.prediction, k, 0));
    at::Tensor identity = at::zeros({}, fopts);
    if (g.z_lambda > 0) identity = identity + mse(d.latent, zc) * g.z_lambda;
    if (g.pos_lambda > 0) identity = identity + mse(d.position, out.pose) * g.pos_lambda;
    at::Tensor g_loss = at::softplus(-preds).mean() + identity;
    at::Tensor depth_loss = at::zeros({}, fopts);
    if (g.surf_track) {
      auto norm = [&](const at::Tensor& t) { return 2 * (t - g.ray_start) / (g.ray_end - g.ray_start) - 1; };
      at::Tensor pred = norm(out.depth_pred), target = norm(out.depth.detach());
      depth_loss = (pred - target).abs().mean();
      if (st.lpips.defined()) {
        auto three = [](const at::Tensor& t) { return t.unsqueeze(1).expand({-1, 3, -1, -1}); };
        depth_loss = depth_loss + lpips_distance(st.lpips, three(pred), three(target)).mean();
      }
    }
    // Chunk gradients accumulate without 1/batch_split (spec §12.14).
    (g_loss + depth_loss).backward();
    g_loss_sum += g_loss.item<double>();
    depth_sum += depth_loss.item<double>();
    gid_sum += identity.item<double>();
  }
  res.g_loss = g_loss_sum / double(split);
  res.depth_loss = depth_sum / double(split);
  res.g_identity = gid_sum / double(split);
  const auto gparams = g_parameters(st);
  allreduce_mean_grads(gparams);
  if (st.capture_grads) st.captured_g_grads = grad_copies(gparams);
  res.g_grad_norm = torch::nn::utils::clip_grad_norm_(gparams, g.grad_clip);
  bad = first_bad({{"g_loss", res.g_loss}, {"depth_loss", res.depth_loss}, {"g_grad_norm", res.g_grad_norm}});
  res.g_finite = !mpi::allreduce_or(!bad.empty());
  if (res.g_finite) {
    st.opt_G->step();
  } else if (res.bad_term.empty()) {
    res.bad_term = bad.empty() ? "g (another rank)" : bad;
  }
  st.opt_G->zero_grad();
  if (res.g_finite && st.ema) {
    model::ema_update(*st.ema, gparams);
    model::ema_update(*st.ema2, gparams);
  }
  return res;
}

}  // namespace sg::train
