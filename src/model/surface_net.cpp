#include "model/surface_net.h"

#include <torch/nn/modules/activation.h>

#include <cmath>

namespace sg::model {

using namespace torch::nn;

ResBlockImpl::ResBlockImpl(int64_t in, int64_t out, bool up)
    : in_channels(in), out_channels(out), upsample(up) {
  gn1 = register_module("gn1", GroupNorm(GroupNormOptions(in / 8, in)));
  conv1 = register_module("conv1", Conv2d(Conv2dOptions(in, out, 3).padding(1).bias(false)));
  gn2 = register_module("gn2", GroupNorm(GroupNormOptions(out / 8, out)));
  conv2 = register_module("conv2", Conv2d(Conv2dOptions(out, out, 3).padding(1).bias(false)));
  if (in != out) conv_sc = register_module("conv_sc", Conv2d(Conv2dOptions(in, out, 1)));
}

at::Tensor ResBlockImpl::forward(const at::Tensor& x_in) {
  at::Tensor x = x_in;
  at::Tensor h = at::relu(gn1->forward(x));
  if (upsample) {
    h = at::upsample_nearest2d(h, {h.size(2) * 2, h.size(3) * 2});
    x = at::upsample_nearest2d(x, {x.size(2) * 2, x.size(3) * 2});
  }
  h = conv1->forward(h);
  h = at::relu(gn2->forward(h));
  h = conv2->forward(h);
  if (in_channels != out_channels) x = conv_sc->forward(x);
  return x + h;
}

ResDecoderImpl::ResDecoderImpl(int64_t zdim, int64_t nf, int64_t size, int64_t cout) {
  const int extra = static_cast<int>(std::log2(static_cast<double>(size)) - 6);
  for (int i = 0; i < extra; ++i) nf *= 2;
  linear = register_module("linear", Linear(zdim, nf * 8));
  auto conv = [](int64_t i, int64_t o, int64_t k, int64_t p) {
    return Conv2d(Conv2dOptions(i, o, k).stride(1).padding(p).bias(false));
  };
  network = Sequential(
      conv(nf * 8 + 2, nf * 8, 1, 0), ReLU(),
      ConvTranspose2d(ConvTranspose2dOptions(nf * 8, nf * 8, 4).stride(1).padding(0).bias(false)),
      ReLU(), conv(nf * 8, nf * 8, 3, 1), ReLU(),
      ConvTranspose2d(ConvTranspose2dOptions(nf * 8, nf * 8, 4).stride(2).padding(1).bias(false)),
      GroupNorm(GroupNormOptions(nf * 2, nf * 8)), ReLU(), conv(nf * 8, nf * 8, 3, 1),
      ResBlock(nf * 8, nf * 4), ResBlock(nf * 4, nf * 2), ResBlock(nf * 2, nf));
  for (int i = 0; i < extra; ++i) {
    nf /= 2;
    network->push_back(ResBlock(nf * 2, nf));
  }
  network->push_back(GroupNorm(GroupNormOptions(nf / 4, nf)));
  network->push_back(ReLU());
  network->push_back(conv(nf, cout, 5, 2));
  network->push_back(Sigmoid());
  register_module("network", network);
}

at::Tensor ResDecoderImpl::forward(const at::Tensor& codes, const at::Tensor& pose) {
  at::Tensor x = at::cat({linear->forward(codes), pose}, -1);
  return network->forward(x.unsqueeze(-1).unsqueeze(-1));
}

}  // namespace sg::model
