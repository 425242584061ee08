#pragma once
// One ShadeGAN training iteration (spec §6.2) on this rank's batch, with gradients averaged over
// MPI ranks (grad_sync.h), and the state it changes: both networks, both Adam optimizers, the
// EMAs (rank 0 only) and this rank's random stream. The loop around it (trainer.h) owns data,
// schedules of when to checkpoint, sample and log.
#include <torch/nn/module.h>
#include <torch/optim/adam.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/curriculum.h"
#include "model/discriminator.h"
#include "model/draws.h"
#include "model/ema.h"
#include "model/generator.h"
#include "model/shading.h"
#include "train/lpips.h"

namespace sg::train {

// The curriculum's discriminator, whichever class it names, shaped by disc_channels and
// disc_minibatch_std (both 0: the reference's).
struct Discriminator {
  model::ProgressiveEncoderDiscriminator progressive{nullptr};
  model::StridedDiscriminator strided{nullptr};
  model::DiscriminatorOutput forward(const at::Tensor& img, double alpha);
  torch::nn::Module& module();
};
Discriminator make_discriminator(const std::string& name, model::DiscriminatorShape shape = {});

// How G's parameters are grouped for Adam (spec §6.4). `fixed`: the groups the reference meant
// (surface net at gen_lr x 10, mapping network at gen_lr x 0.05 x lr_ratio); otherwise the
// reference's actual behaviour (one group, every parameter at gen_lr x lr_ratio).
struct LrPolicy {
  bool unique_lr = false;  // the curriculum's key
  bool fix_unique_lr = false;
};

// What one step computed, kept for tests (the training-step parity fixture records the same):
// the averaged gradients before clipping in parameters() order (an unused parameter's as an
// empty tensor), and the forward tensors under the fixture's names: d_light, d_fake_imgs,
// d_fake_pose, d_depth, d_depth_pred, d_real_logits, d_fake_logits, d_fake_position_pred (the
// discriminator step), g_light, g_fake_imgs, g_fake_pose, g_depth, g_depth_pred, g_fake_logits
// (before top-k), g_lpips (per sample, with LPIPS) for the generator step.
struct StepCapture {
  std::vector<at::Tensor> d_grads, g_grads;
  std::map<std::string, at::Tensor> forward;
};

struct TrainState {
  model::Generator G{nullptr};
  Discriminator D;
  std::unique_ptr<torch::optim::Adam> opt_G, opt_D;
  // G's Adam groups in order, tagged for set_learning_rates: 0 whole/siren, 1 surfacenet, 2 mapping.
  std::vector<int> g_group_roles;
  std::optional<model::Ema> ema, ema2;  // rank 0 only
  model::Draws draws;                   // this rank's random stream (z, lights, cameras, noise)
  model::LightPrior prior;
  Lpips lpips;                          // undefined: the depth loss is L1 only
  int64_t step = 0;                     // iterations done
  // Tests: keep what the last step computed (StepCapture) in `captured`.
  bool capture = false;
  StepCapture captured;
  torch::Device device{torch::kCPU};
};

// G and D from the curriculum (initial weights from the global torch RNG), optimizers per
// `lr`, EMAs when `with_ema`.
void build_models(TrainState& st, const config::Curriculum& c, const LrPolicy& lr, bool with_ema,
                  const torch::Device& device);
std::vector<at::Tensor> g_parameters(TrainState& st);
std::vector<at::Tensor> d_parameters(TrainState& st);

struct StepResult {
  double d_loss = 0, g_loss = 0, depth_loss = 0, r1 = 0, d_identity = 0, g_identity = 0;
  // The identity terms' parts, each already multiplied by its lambda: d_identity =
  // d_position_penalty + d_latent_penalty, g_identity likewise.
  double d_position_penalty = 0, d_latent_penalty = 0, g_position_penalty = 0, g_latent_penalty = 0;
  double depth_l1 = 0, depth_lpips = 0;     // depth_loss's terms (lpips 0 without LPIPS)
  double d_grad_norm = 0, g_grad_norm = 0;  // before clipping
  double real_score = 0, fake_score = 0;    // mean D logits of the D step
  double g_fake_score = 0;                  // mean D logits of the G step, before top-k
  int64_t topk = 0;
  double alpha = 0, lr_ratio = 1;
  bool d_finite = true, g_finite = true;    // false: that optimizer step was skipped
  std::string bad_term;                     // the first non-finite term, for the log
};

// One iteration at `r` (r.step == st.step) on `real` (B, 3, S, S) in [-1, 1]. All ranks call
// it together (it all-reduces gradients and the finite flags). A non-finite loss or gradient
// skips that network's optimizer step on every rank (the caller counts and rolls back).
StepResult train_step(TrainState& st, const config::Resolved& r, const at::Tensor& real,
                      const LrPolicy& lr);

}  // namespace sg::train
