#include "train/train_step.h"

#include <torch/torch.h>

#include <cmath>
#include <map>

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

Discriminator make_discriminator(const std::string& name, model::DiscriminatorShape shape) {
  Discriminator d;
  if (name == "ProgressiveEncoderDiscriminator") d.progressive = model::ProgressiveEncoderDiscriminator(shape);
  else if (name == "StridedDiscriminator") d.strided = model::StridedDiscriminator(shape);
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
  st.D = make_discriminator(g.discriminator, {g.disc_channels, g.disc_minibatch_std});
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

// The identity loss's two terms (spec §6.2), each times its lambda; zero when its lambda is 0
// (the reference computes the latent term and multiplies it by z_lambda = 0: the same value).
struct Identity {
  at::Tensor latent, position;
  at::Tensor total() const { return latent + position; }
};

Identity identity_terms(const model::DiscriminatorOutput& d, const at::Tensor& z, const at::Tensor& pose,
                        const config::Globals& g, const at::TensorOptions& o) {
  Identity id{at::zeros({}, o), at::zeros({}, o)};
  if (g.z_lambda > 0) id.latent = mse(d.latent, z) * g.z_lambda;
  if (g.pos_lambda > 0) id.position = mse(d.position, pose) * g.pos_lambda;
  return id;
}

// Forward tensors of one step, per name, in batch_split chunks; joined into StepCapture::forward.
struct ForwardParts {
  bool on = false;
  std::map<std::string, std::vector<at::Tensor>> parts;
  void keep(const std::string& name, const at::Tensor& t) {
    if (on && t.defined()) parts[name].push_back(t.detach().clone());
  }
  void join_into(std::map<std::string, at::Tensor>& out) const {
    out.clear();
    for (const auto& [name, ts] : parts) out[name] = at::cat(ts);
  }
};

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
  ForwardParts fwd;
  fwd.on = st.capture;

  // ---- discriminator step ----
  at::Tensor z, l, fakes, fake_pose;
  {
    torch::NoGradGuard ng;
    z = sample_z(st.draws, g, B, fopts);
    l = model::sample_light(st.prior, B, st.draws).to(fopts);
    fwd.keep("d_light", l);
    std::vector<at::Tensor> imgs, poses;
    for (int64_t c = 0; c < split; ++c) {
      auto out = st.G->forward(z.slice(0, c * chunk, (c + 1) * chunk), l.slice(0, c * chunk, (c + 1) * chunk),
                               opt, st.draws);
      imgs.push_back(out.rgb.detach());
      poses.push_back(out.pose.detach());
      fwd.keep("d_depth", out.depth);
      fwd.keep("d_depth_pred", out.depth_pred);
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
  const Identity d_id = identity_terms(fout, z, fake_pose, g, fopts);
  at::Tensor d_identity = d_id.total();
  at::Tensor d_fake = at::softplus(fout.prediction).mean(), d_real = at::softplus(-rout.prediction).mean();
  at::Tensor d_loss = d_fake + d_real + r1 + d_identity;
  fwd.keep("d_fake_imgs", fakes);
  fwd.keep("d_fake_pose", fake_pose);
  fwd.keep("d_real_logits", rout.prediction);
  fwd.keep("d_fake_logits", fout.prediction);
  fwd.keep("d_fake_position_pred", fout.position);
  st.opt_D->zero_grad();
  d_loss.backward();
  const auto dparams = d_parameters(st);
  allreduce_mean_grads(dparams);
  if (st.capture) st.captured.d_grads = grad_copies(dparams);
  res.d_grad_norm = torch::nn::utils::clip_grad_norm_(dparams, g.grad_clip);
  res.d_loss = d_loss.item<double>();
  res.r1 = r1.item<double>();
  res.d_identity = d_identity.item<double>();
  res.d_position_penalty = d_id.position.item<double>();
  res.d_latent_penalty = d_id.latent.item<double>();
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
  fwd.keep("g_light", l);
  // Per-chunk means of: g_loss, depth_loss, identity, its position and latent terms, depth L1,
  // depth LPIPS, the mean D logit.
  double sums[8] = {0};
  for (int64_t c = 0; c < split; ++c) {
    const at::Tensor zc = z.slice(0, c * chunk, (c + 1) * chunk);
    auto out = st.G->forward(zc, l.slice(0, c * chunk, (c + 1) * chunk), opt, st.draws);
    auto d = st.D.forward(out.rgb, res.alpha);
    const int64_t k = static_cast<int64_t>(std::ceil(pct * double(d.prediction.size(0))));
    res.topk = k;
    at::Tensor preds = std::get<0>(at::topk(d.prediction, k, 0));
    const Identity id = identity_terms(d, zc, out.pose, g, fopts);
    at::Tensor identity = id.total();
    at::Tensor g_loss = at::softplus(-preds).mean() + identity;
    at::Tensor depth_l1 = at::zeros({}, fopts), depth_lpips = at::zeros({}, fopts);
    if (g.surf_track) {
      auto norm = [&](const at::Tensor& t) { return 2 * (t - g.ray_start) / (g.ray_end - g.ray_start) - 1; };
      at::Tensor pred = norm(out.depth_pred), target = norm(out.depth.detach());
      depth_l1 = (pred - target).abs().mean();
      if (st.lpips.defined()) {
        auto three = [](const at::Tensor& t) { return t.unsqueeze(1).expand({-1, 3, -1, -1}); };
        at::Tensor per_image = lpips_distance(st.lpips, three(pred), three(target));
        fwd.keep("g_lpips", per_image);
        depth_lpips = per_image.mean();
      }
    }
    at::Tensor depth_loss = depth_l1 + depth_lpips;
    fwd.keep("g_fake_imgs", out.rgb);
    fwd.keep("g_fake_pose", out.pose);
    fwd.keep("g_depth", out.depth);
    fwd.keep("g_depth_pred", out.depth_pred);
    fwd.keep("g_fake_logits", d.prediction);
    // Chunk gradients accumulate without 1/batch_split (spec §12.14).
    (g_loss + depth_loss).backward();
    const double terms[8] = {g_loss.item<double>(),        depth_loss.item<double>(),
                             identity.item<double>(),      id.position.item<double>(),
                             id.latent.item<double>(),     depth_l1.item<double>(),
                             depth_lpips.item<double>(),   d.prediction.mean().item<double>()};
    for (int i = 0; i < 8; ++i) sums[i] += terms[i] / double(split);
  }
  res.g_loss = sums[0];
  res.depth_loss = sums[1];
  res.g_identity = sums[2];
  res.g_position_penalty = sums[3];
  res.g_latent_penalty = sums[4];
  res.depth_l1 = sums[5];
  res.depth_lpips = sums[6];
  res.g_fake_score = sums[7];
  const auto gparams = g_parameters(st);
  allreduce_mean_grads(gparams);
  if (st.capture) {
    st.captured.g_grads = grad_copies(gparams);
    fwd.join_into(st.captured.forward);
  }
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
