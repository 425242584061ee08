#pragma once
// The FiLM-SIREN generator network SPATIALSIRENBASELINE (spec §2.1-2.3), with the reference's
// module names so named_parameters() yields the state-dict keys of spec §11
// (siren.network.0.layer.weight, siren.mapping_network.network.6.weight, ...).
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

#include <utility>

#include "model/options.h"
#include "model/volume.h"

namespace sg::model {

// z -> 4 linear layers with LeakyReLU(0.2) (indices 0, 2, 4, 6) -> (frequencies, phase shifts).
struct MappingNetworkImpl : torch::nn::Module {
  MappingNetworkImpl(int64_t z_dim, int64_t hidden_dim, int64_t output_dim);
  // Raw outputs (before 15 f + 30): each (B, output_dim / 2).
  std::pair<at::Tensor, at::Tensor> forward(const at::Tensor& z);
  torch::nn::Sequential network;
};
TORCH_MODULE(MappingNetwork);

// sin(freq * (W x + b) + phase), freq/phase (B, H) broadcast over the points of each batch element.
struct FiLMLayerImpl : torch::nn::Module {
  FiLMLayerImpl(int64_t in, int64_t out);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& freq, const at::Tensor& phase);
  torch::nn::Linear layer{nullptr};
};
TORCH_MODULE(FiLMLayer);

struct SirenImpl : torch::nn::Module {
  explicit SirenImpl(const GeneratorConfig& cfg);

  // forward_with_frequencies_phase_shifts: points and dirs (B, P, 3) in world space, freq/phase
  // the raw mapping outputs (B, 9 H), light (B, 4) (used only with shading && light_condition).
  // Normals (-d(sum sigma)/d(warped points)) when `normals`; through autograd with the graph kept
  // (double backward) iff grad mode is on at the call, as the reference does.
  PointOutputs forward(const at::Tensor& points, const at::Tensor& freq, const at::Tensor& phase,
                       const at::Tensor& light, const at::Tensor& dirs, bool normals);
  // Raw density only (shape extraction): (B, P, 1), no colour head, no normals.
  at::Tensor density(const at::Tensor& points, const at::Tensor& freq, const at::Tensor& phase);

  GeneratorConfig cfg;
  torch::nn::ModuleList network;
  torch::nn::Linear final_layer{nullptr};
  FiLMLayer color_layer_sine{nullptr};
  torch::nn::Sequential color_layer_linear;
  MappingNetwork mapping_network{nullptr};

 private:
  at::Tensor trunk(const at::Tensor& x0, const at::Tensor& gamma, const at::Tensor& phase);
  // The FiLM frequencies from the mapping network's raw output: (15 f + 30) x cfg.frequency_scale.
  at::Tensor film_frequencies(const at::Tensor& freq) const;
  // The density head on trunk features: final_layer times cfg.density_gain.
  at::Tensor raw_density(const at::Tensor& x);
};
TORCH_MODULE(Siren);

// UniformBoxWarp(0.24): maps the cube +-0.12 to +-1.
constexpr double kGridWarpScale = 2.0 / 0.24;

}  // namespace sg::model
