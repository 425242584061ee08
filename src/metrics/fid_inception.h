#pragma once
// The FID variant of Inception-v3 (spec §10.5): the TensorFlow "2015-12-05" graph as pytorch-fid
// and torch-fidelity port it, with the parameter names and shapes of their weights file
// pt_inception-2015-12-05-6726825d.pth (torchvision naming: Conv2d_1a_3x3.conv.weight,
// Mixed_5b.branch1x1.bn.running_mean, ..., fc.weight (1008, 2048), fc.bias), so that file loads
// through sg::weights. Inference only: BatchNorm uses the stored statistics with eps 1e-3, the
// pooling branches of Mixed_5b-5d, 6b-6e and 7b average without counting the padding (as TF
// does), and Mixed_7c's pooling branch is a max-pool.
//
// Outputs: the 2048-d average-pool features (FID, KID) and logits_unbiased = pool * fc.weight^T
// without the bias (Inception Score), as torch-fidelity defines them.
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "metrics/inception_input.h"

namespace torch::nn {
class Module;
}

namespace sg::metrics {

struct InceptionFeatures {
  at::Tensor pool;             // (B, 2048) float32
  at::Tensor logits_unbiased;  // (B, 1008) float32
};

struct FidInceptionNet;  // the torch::nn::Module tree, defined in fid_inception.cpp

class FidInception {
 public:
  // The architecture with every parameter zero and every running variance one; load weights
  // into module() (load_fid_inception does).
  FidInception();
  torch::nn::Module& module();
  const torch::nn::Module& module() const;

  // (B, 3, 299, 299) already pre-processed input.
  InceptionFeatures forward(const at::Tensor& input) const;
  // (B, 3, H, W) images in [0, 255] (uint8 or floating), pre-processed as `mode` says.
  InceptionFeatures features(const at::Tensor& images, InceptionInput mode) const;

 private:
  std::shared_ptr<FidInceptionNet> net_;
};

// The names the FID Inception weights go by in torch's cache: pytorch-fid's, then torch-fidelity's.
extern const std::vector<std::string> kInceptionWeightsFiles;

// Where the weights are when not named in a config: $SG_INCEPTION_WEIGHTS if set (`source` =
// "SG_INCEPTION_WEIGHTS"; returned whether or not it exists, so a wrong setting is reported, not
// passed over), else the first of kInceptionWeightsFiles in torch's cache (weights/torch_hub.h;
// `source` = "torch hub cache"), else "". Cache paths tried are appended to `tried`.
std::string find_inception_weights(std::string* source = nullptr, std::vector<std::string>* tried = nullptr);

// The weights file to use: `configured` (from the config key named `config_key`) if non-empty,
// else find_inception_weights(). Nothing is ever downloaded: no file found, or a path that names
// no file, is a ConfigError saying which file is needed and where it was looked for.
std::string resolve_inception_weights(const std::string& configured,
                                      const std::string& config_key = "inception_weights");

// Read a state dict with the names above (strict: every parameter and buffer present, no other
// key; BatchNorm's num_batches_tracked counters, which the file may carry, are ignored as
// meaningless at inference) into a new network.
FidInception load_fid_inception(const std::string& path);

}  // namespace sg::metrics
