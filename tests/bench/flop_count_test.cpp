// The FLOP counter of the benchmarks (flop_count.h) against counts worked out by hand for a tiny
// Linear, a convolution and a transposed convolution, forward and backward: the benches' FLOP
// figures are only as good as this counter. Timing is never asserted.
#include <torch/torch.h>

#include "flop_count.h"
// doctest last: its CHECK must win over glog's, which LibTorch headers define.
#include <doctest/doctest.h>

using sg::bench::OpProfiler;

TEST_CASE("flop count: Linear(3, 4) on 5 rows, forward and backward") {
  torch::manual_seed(0);
  torch::nn::Linear lin(3, 4);
  at::Tensor x = torch::randn({5, 3}).requires_grad_(true);
  OpProfiler prof;
  at::Tensor y = lin->forward(x);
  const double fwd = prof.stop().flop;
  // addmm: (5 x 3) times (3 x 4) = 60 multiply-adds; the bias add is elementwise, not counted.
  CHECK(fwd == 2 * 5 * 3 * 4);
  OpProfiler prof2;
  y.sum().backward();
  // dx = g (5 x 4) W (4 x 3), dW = g^T (4 x 5) x (5 x 3): 60 multiply-adds each.
  CHECK(prof2.stop().flop == 2 * (2 * 5 * 4 * 3));
}

TEST_CASE("flop count: 3x3 convolution with padding, forward and both gradients") {
  torch::manual_seed(0);
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(3, 4, 3).padding(1));
  at::Tensor x = torch::randn({2, 3, 8, 8}).requires_grad_(true);
  OpProfiler prof;
  at::Tensor y = conv->forward(x);
  // 2 images x 4 channels x 8 x 8 outputs, each 3 x 3 x 3 multiply-adds.
  const double macs = 2.0 * 4 * 8 * 8 * 27;
  CHECK(prof.stop().flop == 2 * macs);
  OpProfiler prof2;
  y.sum().backward();
  CHECK(prof2.stop().flop == 2 * 2 * macs);  // input and weight gradients
}

TEST_CASE("flop count: strided convolution and transposed convolution") {
  torch::manual_seed(0);
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(3, 4, 3).stride(2).padding(1));
  at::Tensor x = torch::randn({1, 3, 8, 8});
  {
    torch::NoGradGuard ng;
    OpProfiler prof;
    conv->forward(x);
    // 4 x 4 outputs per channel.
    CHECK(prof.stop().flop == 2.0 * 4 * 4 * 4 * 27);
  }
  torch::nn::ConvTranspose2d up(torch::nn::ConvTranspose2dOptions(3, 4, 4).stride(2).padding(1).bias(false));
  at::Tensor s = torch::randn({1, 3, 5, 5});
  torch::NoGradGuard ng;
  OpProfiler prof;
  at::Tensor o = up->forward(s);
  CHECK(o.size(2) == 10);
  // Every one of the 3 x 5 x 5 inputs is scattered through 4 x 4 x 4 weights.
  CHECK(prof.stop().flop == 2.0 * 3 * 25 * 4 * 16);
}

TEST_CASE("flop count: bmm and a record nested in a counted one is not counted twice") {
  at::Tensor a = torch::randn({2, 3, 4}), b = torch::randn({2, 4, 5});
  OpProfiler prof;
  at::matmul(a, b);  // matmul -> bmm
  const auto p = prof.stop();
  CHECK(p.flop == 2.0 * 2 * 3 * 4 * 5);
  CHECK(p.ops.count("aten::matmul") == 1);
}
