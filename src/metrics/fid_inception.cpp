#include "metrics/fid_inception.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>
#include <torch/torch.h>

#include <cstdlib>
#include <vector>

#include "core/error.h"
#include "weights/state_dict.h"
#include "weights/torch_hub.h"

namespace sg::metrics {

namespace {

using torch::nn::Conv2d;
using torch::nn::Conv2dOptions;
using torch::nn::Module;

// BatchNorm at inference with the stored statistics. Our own module rather than
// torch::nn::BatchNorm2d so the parameters and buffers are exactly the file's four.
struct FrozenBatchNorm : Module {
  explicit FrozenBatchNorm(int64_t channels) {
    weight = register_parameter("weight", torch::ones({channels}));
    bias = register_parameter("bias", torch::zeros({channels}));
    running_mean = register_buffer("running_mean", torch::zeros({channels}));
    running_var = register_buffer("running_var", torch::ones({channels}));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    return torch::batch_norm(x, weight, bias, running_mean, running_var, /*training=*/false,
                             /*momentum=*/0.0, /*eps=*/1e-3, /*cudnn_enabled=*/false);
  }
  torch::Tensor weight, bias, running_mean, running_var;
};

// conv (no bias) + BatchNorm(eps 1e-3) + ReLU, named conv / bn as in torchvision.
struct BasicConv : Module {
  BasicConv(int64_t in, int64_t out, std::vector<int64_t> kernel, std::vector<int64_t> stride = {1, 1},
            std::vector<int64_t> padding = {0, 0}) {
    conv = register_module(
        "conv", Conv2d(Conv2dOptions(in, out, torch::ExpandingArray<2>(kernel))
                           .stride(torch::ExpandingArray<2>(stride))
                           .padding(torch::ExpandingArray<2>(padding))
                           .bias(false)));
    bn = register_module("bn", std::make_shared<FrozenBatchNorm>(out));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    return torch::relu(bn->forward(conv->forward(x)));
  }
  Conv2d conv{nullptr};
  std::shared_ptr<FrozenBatchNorm> bn;
};
using Conv = std::shared_ptr<BasicConv>;

Conv add(Module& m, const std::string& name, int64_t in, int64_t out, std::vector<int64_t> kernel,
         std::vector<int64_t> stride = {1, 1}, std::vector<int64_t> padding = {0, 0}) {
  return m.register_module(name, std::make_shared<BasicConv>(in, out, kernel, stride, padding));
}

// TF's average pooling divides by the number of real (non-padding) pixels.
torch::Tensor avg_pool_tf(const torch::Tensor& x) {
  return torch::avg_pool2d(x, {3, 3}, {1, 1}, {1, 1}, /*ceil_mode=*/false,
                           /*count_include_pad=*/false);
}

struct InceptionA : Module {
  InceptionA(int64_t in, int64_t pool_features) {
    b1 = add(*this, "branch1x1", in, 64, {1, 1});
    b5_1 = add(*this, "branch5x5_1", in, 48, {1, 1});
    b5_2 = add(*this, "branch5x5_2", 48, 64, {5, 5}, {1, 1}, {2, 2});
    b3_1 = add(*this, "branch3x3dbl_1", in, 64, {1, 1});
    b3_2 = add(*this, "branch3x3dbl_2", 64, 96, {3, 3}, {1, 1}, {1, 1});
    b3_3 = add(*this, "branch3x3dbl_3", 96, 96, {3, 3}, {1, 1}, {1, 1});
    pool = add(*this, "branch_pool", in, pool_features, {1, 1});
  }
  torch::Tensor forward(const torch::Tensor& x) {
    return torch::cat({b1->forward(x), b5_2->forward(b5_1->forward(x)),
                       b3_3->forward(b3_2->forward(b3_1->forward(x))),
                       pool->forward(avg_pool_tf(x))},
                      1);
  }
  Conv b1, b5_1, b5_2, b3_1, b3_2, b3_3, pool;
};

struct InceptionB : Module {
  explicit InceptionB(int64_t in) {
    b3 = add(*this, "branch3x3", in, 384, {3, 3}, {2, 2});
    d1 = add(*this, "branch3x3dbl_1", in, 64, {1, 1});
    d2 = add(*this, "branch3x3dbl_2", 64, 96, {3, 3}, {1, 1}, {1, 1});
    d3 = add(*this, "branch3x3dbl_3", 96, 96, {3, 3}, {2, 2});
  }
  torch::Tensor forward(const torch::Tensor& x) {
    return torch::cat({b3->forward(x), d3->forward(d2->forward(d1->forward(x))),
                       torch::max_pool2d(x, {3, 3}, {2, 2})},
                      1);
  }
  Conv b3, d1, d2, d3;
};

struct InceptionC : Module {
  InceptionC(int64_t in, int64_t c7) {
    b1 = add(*this, "branch1x1", in, 192, {1, 1});
    s1 = add(*this, "branch7x7_1", in, c7, {1, 1});
    s2 = add(*this, "branch7x7_2", c7, c7, {1, 7}, {1, 1}, {0, 3});
    s3 = add(*this, "branch7x7_3", c7, 192, {7, 1}, {1, 1}, {3, 0});
    d1 = add(*this, "branch7x7dbl_1", in, c7, {1, 1});
    d2 = add(*this, "branch7x7dbl_2", c7, c7, {7, 1}, {1, 1}, {3, 0});
    d3 = add(*this, "branch7x7dbl_3", c7, c7, {1, 7}, {1, 1}, {0, 3});
    d4 = add(*this, "branch7x7dbl_4", c7, c7, {7, 1}, {1, 1}, {3, 0});
    d5 = add(*this, "branch7x7dbl_5", c7, 192, {1, 7}, {1, 1}, {0, 3});
    pool = add(*this, "branch_pool", in, 192, {1, 1});
  }
  torch::Tensor forward(const torch::Tensor& x) {
    const auto dbl = d5->forward(d4->forward(d3->forward(d2->forward(d1->forward(x)))));
    return torch::cat({b1->forward(x), s3->forward(s2->forward(s1->forward(x))), dbl,
                       pool->forward(avg_pool_tf(x))},
                      1);
  }
  Conv b1, s1, s2, s3, d1, d2, d3, d4, d5, pool;
};

struct InceptionD : Module {
  explicit InceptionD(int64_t in) {
    a1 = add(*this, "branch3x3_1", in, 192, {1, 1});
    a2 = add(*this, "branch3x3_2", 192, 320, {3, 3}, {2, 2});
    b1 = add(*this, "branch7x7x3_1", in, 192, {1, 1});
    b2 = add(*this, "branch7x7x3_2", 192, 192, {1, 7}, {1, 1}, {0, 3});
    b3 = add(*this, "branch7x7x3_3", 192, 192, {7, 1}, {1, 1}, {3, 0});
    b4 = add(*this, "branch7x7x3_4", 192, 192, {3, 3}, {2, 2});
  }
  torch::Tensor forward(const torch::Tensor& x) {
    return torch::cat({a2->forward(a1->forward(x)),
                       b4->forward(b3->forward(b2->forward(b1->forward(x)))),
                       torch::max_pool2d(x, {3, 3}, {2, 2})},
                      1);
  }
  Conv a1, a2, b1, b2, b3, b4;
};

struct InceptionE : Module {
  InceptionE(int64_t in, bool max_pool) : max_pool_(max_pool) {
    b1 = add(*this, "branch1x1", in, 320, {1, 1});
    t1 = add(*this, "branch3x3_1", in, 384, {1, 1});
    t2a = add(*this, "branch3x3_2a", 384, 384, {1, 3}, {1, 1}, {0, 1});
    t2b = add(*this, "branch3x3_2b", 384, 384, {3, 1}, {1, 1}, {1, 0});
    d1 = add(*this, "branch3x3dbl_1", in, 448, {1, 1});
    d2 = add(*this, "branch3x3dbl_2", 448, 384, {3, 3}, {1, 1}, {1, 1});
    d3a = add(*this, "branch3x3dbl_3a", 384, 384, {1, 3}, {1, 1}, {0, 1});
    d3b = add(*this, "branch3x3dbl_3b", 384, 384, {3, 1}, {1, 1}, {1, 0});
    pool = add(*this, "branch_pool", in, 192, {1, 1});
  }
  torch::Tensor forward(const torch::Tensor& x) {
    const auto t = t1->forward(x);
    const auto d = d2->forward(d1->forward(x));
    // Mixed_7c (E_2) max-pools here: a quirk of the TF graph the FID weights come from.
    const auto pooled = max_pool_ ? torch::max_pool2d(x, {3, 3}, {1, 1}, {1, 1}) : avg_pool_tf(x);
    return torch::cat({b1->forward(x), torch::cat({t2a->forward(t), t2b->forward(t)}, 1),
                       torch::cat({d3a->forward(d), d3b->forward(d)}, 1),
                       pool->forward(pooled)},
                      1);
  }
  bool max_pool_;
  Conv b1, t1, t2a, t2b, d1, d2, d3a, d3b, pool;
};

}  // namespace

struct FidInceptionNet : Module {
  FidInceptionNet() {
    c1a = add(*this, "Conv2d_1a_3x3", 3, 32, {3, 3}, {2, 2});
    c2a = add(*this, "Conv2d_2a_3x3", 32, 32, {3, 3});
    c2b = add(*this, "Conv2d_2b_3x3", 32, 64, {3, 3}, {1, 1}, {1, 1});
    c3b = add(*this, "Conv2d_3b_1x1", 64, 80, {1, 1});
    c4a = add(*this, "Conv2d_4a_3x3", 80, 192, {3, 3});
    m5b = register_module("Mixed_5b", std::make_shared<InceptionA>(192, 32));
    m5c = register_module("Mixed_5c", std::make_shared<InceptionA>(256, 64));
    m5d = register_module("Mixed_5d", std::make_shared<InceptionA>(288, 64));
    m6a = register_module("Mixed_6a", std::make_shared<InceptionB>(288));
    m6b = register_module("Mixed_6b", std::make_shared<InceptionC>(768, 128));
    m6c = register_module("Mixed_6c", std::make_shared<InceptionC>(768, 160));
    m6d = register_module("Mixed_6d", std::make_shared<InceptionC>(768, 160));
    m6e = register_module("Mixed_6e", std::make_shared<InceptionC>(768, 192));
    m7a = register_module("Mixed_7a", std::make_shared<InceptionD>(768));
    m7b = register_module("Mixed_7b", std::make_shared<InceptionE>(1280, /*max_pool=*/false));
    m7c = register_module("Mixed_7c", std::make_shared<InceptionE>(2048, /*max_pool=*/true));
    fc = register_module("fc", torch::nn::Linear(2048, 1008));
    // Deterministic placeholders until weights are loaded (no random init: nothing here should
    // depend on a global RNG).
    torch::NoGradGuard no_grad;
    for (auto& p : parameters()) p.zero_();
    for (auto& m : modules(/*include_self=*/false))
      if (auto* bn = dynamic_cast<FrozenBatchNorm*>(m.get())) bn->weight.fill_(1);
    eval();
  }

  InceptionFeatures forward(torch::Tensor x) {
    x = c2b->forward(c2a->forward(c1a->forward(x)));
    x = torch::max_pool2d(x, {3, 3}, {2, 2});
    x = c4a->forward(c3b->forward(x));
    x = torch::max_pool2d(x, {3, 3}, {2, 2});
    x = m5d->forward(m5c->forward(m5b->forward(x)));
    x = m6a->forward(x);
    x = m6e->forward(m6d->forward(m6c->forward(m6b->forward(x))));
    x = m7c->forward(m7b->forward(m7a->forward(x)));
    InceptionFeatures f;
    f.pool = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
    f.logits_unbiased = f.pool.mm(fc->weight.t());
    return f;
  }

  Conv c1a, c2a, c2b, c3b, c4a;
  std::shared_ptr<InceptionA> m5b, m5c, m5d;
  std::shared_ptr<InceptionB> m6a;
  std::shared_ptr<InceptionC> m6b, m6c, m6d, m6e;
  std::shared_ptr<InceptionD> m7a;
  std::shared_ptr<InceptionE> m7b, m7c;
  torch::nn::Linear fc{nullptr};
};

FidInception::FidInception() : net_(std::make_shared<FidInceptionNet>()) {}

torch::nn::Module& FidInception::module() { return *net_; }
const torch::nn::Module& FidInception::module() const { return *net_; }

InceptionFeatures FidInception::forward(const at::Tensor& input) const {
  if (input.dim() != 4 || input.size(1) != 3 || input.size(2) != 299 || input.size(3) != 299)
    throw FormatError(fmt::format("the FID Inception network takes (B, 3, 299, 299) input, got ({})",
                                  fmt::join(input.sizes(), ", ")));
  torch::NoGradGuard no_grad;
  return net_->forward(input.to(torch::kFloat));
}

InceptionFeatures FidInception::features(const at::Tensor& images, InceptionInput mode) const {
  return forward(inception_preprocess(images, mode));
}

const std::vector<std::string> kInceptionWeightsFiles = {"pt_inception-2015-12-05-6726825d.pth",
                                                        "weights-inception-2015-12-05-6726825d.pth"};

std::string find_inception_weights(std::string* source, std::vector<std::string>* tried) {
  const char* env = std::getenv("SG_INCEPTION_WEIGHTS");
  if (env && *env) {
    if (source) *source = "SG_INCEPTION_WEIGHTS";
    return env;
  }
  const std::string cached = weights::find_in_torch_hub(kInceptionWeightsFiles, tried);
  if (source) *source = cached.empty() ? "" : "torch hub cache";
  return cached;
}

std::string resolve_inception_weights(const std::string& configured,
                                      const std::string& config_key) {
  std::string path = configured;
  std::string source = "config key '" + config_key + "'";
  std::vector<std::string> tried;
  if (path.empty()) path = find_inception_weights(&source, &tried);
  const std::string where =
      "FID/KID/IS need the FID Inception weights pt_inception-2015-12-05-6726825d.pth (the file "
      "pytorch-fid and torch-fidelity use; torch-fidelity names its copy "
      "weights-inception-2015-12-05-6726825d.pth). Researchers usually have it in torch's cache, "
      "$TORCH_HOME/hub/checkpoints (default ~/.cache/torch/hub/checkpoints; here " +
      weights::torch_hub_checkpoints_dir() + "), where it is looked for. It is never downloaded: put it "
      "there, or set '" +
      config_key + "' or the environment variable SG_INCEPTION_WEIGHTS to its path.";
  if (path.empty()) {
    std::string looked;
    for (const std::string& t : tried) looked += (looked.empty() ? "" : ", ") + t;
    throw ConfigError("no Inception weights given or found (looked for " + looked + "). " + where);
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    throw ConfigError(fmt::format("Inception weights '{}' (from {}) do not exist or are not a "
                                  "file. {}",
                                  path, source, where));
  return path;
}

FidInception load_fid_inception(const std::string& path) {
  weights::StateDict sd = weights::read_state_dict(path);
  weights::StateDict kept;
  kept.reserve(sd.size());
  const std::string counter = ".num_batches_tracked";
  for (auto& [name, tensor] : sd)
    if (name.size() < counter.size() ||
        name.compare(name.size() - counter.size(), counter.size(), counter) != 0)
      kept.emplace_back(name, tensor);
  FidInception net;
  weights::load_into(net.module(), kept, path, /*strict=*/true);
  return net;
}

}  // namespace sg::metrics
