#include "model/discriminator.h"


#include "core/error.h"
// doctest last: its CHECK must win over glog's, which LibTorch headers define.
#include <doctest/doctest.h>

using namespace sg::model;

namespace {

int64_t count(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

}  // namespace

TEST_CASE("ProgressiveEncoderDiscriminator: names, shapes and count of spec 11") {
  ProgressiveEncoderDiscriminator d;
  CHECK(count(*d) == 12825523);
  auto np = d->named_parameters();
  std::vector<std::string> keys;
  for (const auto& kv : np) keys.push_back(kv.key());
  REQUIRE(keys.size() >= 6);
  CHECK(keys[0] == "layers.0.network.0.conv.weight");
  CHECK(keys[2] == "layers.0.network.2.conv.weight");
  CHECK(keys[4] == "layers.0.proj.weight");
  CHECK(keys[keys.size() - 2] == "final_layer.weight");
  CHECK(np["layers.0.network.0.conv.weight"].sizes() == at::IntArrayRef({32, 18, 3, 3}));
  CHECK(np["layers.4.network.2.conv.weight"].sizes() == at::IntArrayRef({400, 402, 3, 3}));
  CHECK(np.find("layers.5.proj.weight") == nullptr);
  CHECK(np["fromRGB.3.model.0.weight"].sizes() == at::IntArrayRef({128, 3, 1, 1}));
  CHECK(np["final_layer.weight"].sizes() == at::IntArrayRef({259, 400, 2, 2}));
  // fromRGB follows every layers.* key.
  auto first_from = std::find_if(keys.begin(), keys.end(),
                                 [](const std::string& k) { return k.rfind("fromRGB", 0) == 0; });
  CHECK(std::none_of(first_from, keys.end(),
                     [](const std::string& k) { return k.rfind("layers", 0) == 0; }));
}

TEST_CASE("StridedDiscriminator: names, shapes and count of spec 11") {
  StridedDiscriminator d;
  CHECK(count(*d) == 12805489);
  auto np = d->named_parameters();
  CHECK(np["layers.0.network.0.weight"].sizes() == at::IntArrayRef({64, 32, 3, 3}));
  CHECK(np["layers.0.network.2.weight"].sizes() == at::IntArrayRef({64, 64, 3, 3}));
  CHECK(np["layers.6.proj.weight"].sizes() == at::IntArrayRef({400, 400, 1, 1}));
  CHECK(np["fromRGB.7.model.0.weight"].sizes() == at::IntArrayRef({400, 3, 1, 1}));
  CHECK(np["final_layer.weight"].sizes() == at::IntArrayRef({1, 400, 2, 2}));
  CHECK(np["pose_layer.weight"].sizes() == at::IntArrayRef({400, 2}));
  // The strided convs are Kaiming-normal (a = 0.2): std sqrt(2 / 1.04) / sqrt(fan_in).
  const double fan_in = 32 * 9;
  const double std_expect = std::sqrt(2.0 / 1.04) / std::sqrt(fan_in);
  CHECK(np["layers.0.network.0.weight"].std().item<double>() ==
        doctest::Approx(std_expect).epsilon(0.05));
}

TEST_CASE("discriminator outputs and the nearest fade-in") {
  at::NoGradGuard g;
  ProgressiveEncoderDiscriminator d;
  at::Tensor img = at::rand({2, 3, 32, 32}) * 2 - 1;
  DiscriminatorOutput o = d->forward(img, 0.5);
  CHECK(o.prediction.sizes() == at::IntArrayRef({2, 1}));
  CHECK(o.latent.sizes() == at::IntArrayRef({2, 256}));
  CHECK(o.position.sizes() == at::IntArrayRef({2, 2}));

  // At alpha 0 the second block sees only fromRGB of the half-size image, and the half-size image
  // is the top-left pixel of every 2x2 block: changing the other pixels changes nothing.
  at::Tensor other = img.clone();
  other.slice(2, 1, 32, 2).uniform_(-1, 1);
  // ...except through the first block, which alpha 0 multiplies by zero.
  CHECK(at::allclose(d->forward(img, 0.0).prediction, d->forward(other, 0.0).prediction, 1e-5, 1e-6));
  CHECK(!at::allclose(d->forward(img, 1.0).prediction, d->forward(other, 1.0).prediction));
  at::Tensor top_left_changed = img.clone();
  top_left_changed.slice(2, 0, 32, 2).slice(3, 0, 32, 2).uniform_(-1, 1);
  CHECK(!at::allclose(d->forward(img, 0.0).prediction,
                      d->forward(top_left_changed, 0.0).prediction));

  StridedDiscriminator s;
  at::Tensor cat = at::rand({2, 3, 64, 64}) * 2 - 1;
  DiscriminatorOutput so = s->forward(cat, 1.0);
  CHECK(so.prediction.sizes() == at::IntArrayRef({2, 1}));
  CHECK(!so.latent.defined());
  at::Tensor cat2 = cat.clone();
  cat2.slice(3, 1, 64, 2).uniform_(-1, 1);
  CHECK(at::allclose(s->forward(cat, 0.0).prediction, s->forward(cat2, 0.0).prediction, 1e-5, 1e-6));

  CHECK_THROWS_AS(d->forward(at::rand({1, 3, 48, 48}), 1.0), sg::StageError);
  CHECK_THROWS_AS(s->forward(at::rand({1, 3, 512, 512}), 1.0), sg::StageError);
}

TEST_CASE("CoordConv appends row then column coordinates in [-1, 1]") {
  at::NoGradGuard g;
  CoordConv c(1, 2, 1, 0);
  c->conv->weight.zero_();
  c->conv->bias.zero_();
  c->conv->weight[0][1][0][0] = 1;  // channel `in` = row coordinate
  c->conv->weight[1][2][0][0] = 1;  // channel `in + 1` = column coordinate
  at::Tensor y = c->forward(at::zeros({1, 1, 3, 5}));
  CHECK(at::allclose(y[0][0].select(1, 0), at::tensor({-1.f, 0.f, 1.f})));
  CHECK(at::allclose(y[0][1][0], at::tensor({-1.f, -0.5f, 0.f, 0.5f, 1.f})));
}

TEST_CASE("fade-in alpha by step") {
  CHECK(fade_in_alpha(0, 0, 10000) == 0);
  CHECK(fade_in_alpha(5000, 0, 10000) == 0.5);
  CHECK(fade_in_alpha(35000, 30000, 10000) == 0.5);
  CHECK(fade_in_alpha(80000, 30000, 10000) == 1);
}

TEST_CASE("append_minibatch_std: one channel, each image's group's mean standard deviation") {
  // Batch 6 with group 4 takes groups of 3 (the largest divisor of 6 not above 4): images
  // {0, 2, 4} and {1, 3, 5}, as ProGAN groups them (image i with i + B/g).
  at::Tensor x = at::arange(6 * 2 * 1 * 2, at::kDouble).reshape({6, 2, 1, 2}).pow(1.5);
  at::Tensor y = append_minibatch_std(x, 4);
  REQUIRE(y.sizes() == at::IntArrayRef({6, 3, 1, 2}));
  CHECK(at::equal(y.slice(1, 0, 2), x));
  for (int64_t member = 0; member < 2; ++member) {
    // By hand: population std over the group, per feature, averaged over the 4 features.
    double sum = 0;
    for (int64_t c = 0; c < 2; ++c)
      for (int64_t w = 0; w < 2; ++w) {
        double v[3], mean = 0, var = 0;
        for (int k = 0; k < 3; ++k) mean += (v[k] = x[member + 2 * k][c][0][w].item<double>()) / 3;
        for (int k = 0; k < 3; ++k) var += (v[k] - mean) * (v[k] - mean) / 3;
        sum += std::sqrt(var + 1e-8);
      }
    for (int k = 0; k < 3; ++k) {
      CHECK(y[member + 2 * k][2][0][0].item<double>() == doctest::Approx(sum / 4).epsilon(1e-12));
      CHECK(y[member + 2 * k][2][0][1].item<double>() == doctest::Approx(sum / 4).epsilon(1e-12));
    }
  }
  // Identical images have no spread; a batch of one is its own group.
  CHECK(append_minibatch_std(x.slice(0, 0, 1).repeat({4, 1, 1, 1}), 4).select(1, 2).max().item<double>() < 1e-3);
  CHECK(append_minibatch_std(x.slice(0, 0, 1), 4).size(1) == 3);
}

TEST_CASE("disc_minibatch_std widens only final_layer's input, by one channel") {
  ProgressiveEncoderDiscriminator plain(DiscriminatorShape{64, 0});
  ProgressiveEncoderDiscriminator mb(DiscriminatorShape{64, 4});
  CHECK(plain->final_layer->weight.sizes() == at::IntArrayRef({259, 64, 2, 2}));
  CHECK(mb->final_layer->weight.sizes() == at::IntArrayRef({259, 65, 2, 2}));
  CHECK(count(*mb) - count(*plain) == 259 * 2 * 2);
  StridedDiscriminator strided(DiscriminatorShape{0, 4});
  CHECK(strided->final_layer->weight.sizes() == at::IntArrayRef({1, 401, 2, 2}));
  // The spread reaches the prediction: the same image scores differently beside a copy of itself
  // than beside other images.
  at::manual_seed(1);
  at::NoGradGuard ng;
  at::Tensor img = at::rand({4, 3, 16, 16}) * 2 - 1;
  at::Tensor same = img.slice(0, 0, 1).repeat({4, 1, 1, 1});
  const double mixed = mb->forward(img, 1).prediction[0][0].item<double>();
  const double alike = mb->forward(same, 1).prediction[0][0].item<double>();
  CHECK(mixed != alike);
  CHECK(plain->forward(img, 1).prediction[0][0].item<double>() ==
        plain->forward(same, 1).prediction[0][0].item<double>());
}
