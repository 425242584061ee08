#include "model/siren.h"

#include <torch/autograd.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>

#include <cmath>

namespace sg::model {

namespace {

// frequency_init(25): U(-sqrt(6/fan_in)/25, +sqrt(6/fan_in)/25) on a Linear weight.
void frequency_init(at::Tensor weight, double freq) {
  torch::NoGradGuard g;
  const double fan_in = static_cast<double>(weight.size(-1));
  const double b = std::sqrt(6.0 / fan_in) / freq;
  weight.uniform_(-b, b);
}

}  // namespace

MappingNetworkImpl::MappingNetworkImpl(int64_t z_dim, int64_t hidden, int64_t output_dim) {
  using namespace torch::nn;
  auto lrelu = [] { return LeakyReLU(LeakyReLUOptions().negative_slope(0.2)); };
  network = Sequential(Linear(z_dim, hidden), lrelu(), Linear(hidden, hidden), lrelu(),
                       Linear(hidden, hidden), lrelu(), Linear(hidden, output_dim));
  register_module("network", network);
  torch::NoGradGuard g;
  // kaiming_leaky_init on every Linear weight, then the last layer scaled by 0.25; biases keep
  // the default U(+-1/sqrt(fan_in)).
  for (size_t i = 0; i < network->size(); i += 2) {
    auto lin = network[i]->as<Linear>();
    torch::nn::init::kaiming_normal_(lin->weight, 0.2, torch::kFanIn, torch::kLeakyReLU);
  }
  network[6]->as<Linear>()->weight.mul_(0.25);
}

std::pair<at::Tensor, at::Tensor> MappingNetworkImpl::forward(const at::Tensor& z) {
  at::Tensor out = network->forward(z);
  const int64_t half = out.size(-1) / 2;
  return {out.slice(-1, 0, half), out.slice(-1, half)};
}

FiLMLayerImpl::FiLMLayerImpl(int64_t in, int64_t out) {
  layer = register_module("layer", torch::nn::Linear(in, out));
}

at::Tensor FiLMLayerImpl::forward(const at::Tensor& x_in, const at::Tensor& freq,
                                  const at::Tensor& phase) {
  at::Tensor x = layer->forward(x_in);
  return at::sin(freq.unsqueeze(1).expand_as(x) * x + phase.unsqueeze(1).expand_as(x));
}

SirenImpl::SirenImpl(const GeneratorConfig& c) : cfg(c) {
  const int64_t h = cfg.hidden_dim;
  for (int i = 0; i < 8; ++i) network->push_back(FiLMLayer(i == 0 ? 3 : h, h));
  register_module("network", network);
  final_layer = register_module("final_layer", torch::nn::Linear(h, 1));
  // The reference adds 4 for light_condition even without shading (spec §12.10).
  const int64_t color_in = h + (cfg.view_condition ? 3 : 0) + (cfg.light_condition ? 4 : 0);
  color_layer_sine = register_module("color_layer_sine", FiLMLayer(color_in, h));
  color_layer_linear = torch::nn::Sequential(torch::nn::Linear(h, 3));
  register_module("color_layer_linear", color_layer_linear);
  mapping_network = register_module(
      "mapping_network", MappingNetwork(cfg.z_dim, cfg.map_hidden_dim, (8 + 1) * h * 2));

  // frequency_init(25) in the reference's order: trunk, final, colour sine, colour linear.
  for (auto& m : *network) frequency_init(m->as<FiLMLayer>()->layer->weight, 25);
  frequency_init(final_layer->weight, 25);
  frequency_init(color_layer_sine->layer->weight, 25);
  frequency_init(color_layer_linear[0]->as<torch::nn::Linear>()->weight, 25);
  {
    // first_layer_film_sine_init: network[0] (fan_in 3) U(-1/3, 1/3).
    torch::NoGradGuard g;
    auto w = network[0]->as<FiLMLayer>()->layer->weight;
    const double b = 1.0 / static_cast<double>(w.size(-1));
    w.uniform_(-b, b);
  }
  if (!std::isnan(cfg.density_bias)) {
    torch::NoGradGuard g;
    final_layer->bias.fill_(cfg.density_bias);
  }
}

at::Tensor SirenImpl::film_frequencies(const at::Tensor& freq) const {
  at::Tensor gamma = freq * 15 + 30;
  // Skipped at the reference's scale 1, so its arithmetic stays bit for bit.
  return cfg.frequency_scale == 1 ? gamma : gamma * cfg.frequency_scale;
}

at::Tensor SirenImpl::raw_density(const at::Tensor& x) {
  at::Tensor sigma = final_layer->forward(x);
  // Skipped at the reference's gain 1, so its arithmetic stays bit for bit.
  return cfg.density_gain == 1 ? sigma : sigma * cfg.density_gain;
}

at::Tensor SirenImpl::trunk(const at::Tensor& x0, const at::Tensor& gamma,
                            const at::Tensor& phase) {
  const int64_t h = cfg.hidden_dim;
  at::Tensor x = x0;
  for (size_t i = 0; i < network->size(); ++i) {
    const int64_t s = static_cast<int64_t>(i) * h;
    x = network[i]->as<FiLMLayer>()->forward(x, gamma.slice(-1, s, s + h), phase.slice(-1, s, s + h));
  }
  return x;
}

PointOutputs SirenImpl::forward(const at::Tensor& points, const at::Tensor& freq,
                                const at::Tensor& phase, const at::Tensor& light,
                                const at::Tensor& dirs, bool normals) {
  const bool with_grad = at::GradMode::is_enabled();
  const int64_t h = cfg.hidden_dim;
  PointOutputs out;
  // Normals need autograd even in no-grad contexts (rendering, the D step).
  at::AutoGradMode mode(with_grad || normals);
  at::Tensor gamma = film_frequencies(freq);
  // The warped points are the leaf the normal is taken against (the reference marks the raw
  // input and differentiates w.r.t. the warped tensor: the same gradient).
  at::Tensor x0 = points * kGridWarpScale;
  if (normals) x0 = x0.detach().requires_grad_(true);
  at::Tensor x = trunk(x0, gamma, phase);
  at::Tensor sigma = raw_density(x);
  if (normals) {
    auto g = torch::autograd::grad({sigma.sum()}, {x0}, {}, /*retain_graph=*/with_grad,
                                   /*create_graph=*/with_grad);
    out.normal = -g[0];
  }
  if (cfg.view_condition) x = at::cat({dirs, x}, -1);
  if (cfg.shading && cfg.light_condition) {
    x = at::cat({x, light.unsqueeze(1).expand({-1, x.size(1), -1})}, -1);
  }
  at::Tensor rgb = color_layer_sine->forward(x, gamma.slice(-1, 8 * h), phase.slice(-1, 8 * h));
  rgb = at::sigmoid(color_layer_linear->forward(rgb));
  if (!with_grad) {
    sigma = sigma.detach();
    rgb = rgb.detach();
    if (out.normal.defined()) out.normal = out.normal.detach();
  }
  out.sigma = sigma;
  out.rgb = rgb;
  return out;
}

at::Tensor SirenImpl::density(const at::Tensor& points, const at::Tensor& freq,
                              const at::Tensor& phase) {
  at::Tensor gamma = film_frequencies(freq);
  return raw_density(trunk(points * kGridWarpScale, gamma, phase));
}

}  // namespace sg::model
