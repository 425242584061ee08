#pragma once
// The LPIPS network of the parity fixtures (../shared/fixtures/lpips/README.md): the VGG16
// backbone from the formula weights (formula_weights.h) with a given seed, the official v0.1
// heads from the LPIPS fixture's HDF5 (`heads/linK.model.1.weight`). The train-step fixture
// names only the seed (lpips.backbone_seed) and that file; tests/train/lpips_test.cpp checks
// this against the LPIPS fixture's per-tensor table and outputs.
#include <cmath>
#include <string>

#include "data/hdf5.h"
#include "formula_weights.h"
#include "train/lpips.h"

namespace sg::test {

// The exponent e of a VGG16 tensor (values uniform on [-2^-e, 2^-e)), from its convolution's
// fan_in = in_channels x 3 x 3: weights round He-uniform sqrt(6 / fan_in) to a power of two,
// biases 1 / sqrt(fan_in).
inline int formula_vgg_e(int64_t fan_in, bool bias) {
  const double x = bias ? double(fan_in) : double(fan_in) / 6.0;
  return static_cast<int>(std::floor(0.5 * std::log2(x) + 0.5));
}

// A float dataset of an HDF5 file as a float32 tensor of its stored shape.
inline torch::Tensor read_h5_float(const std::string& file, const std::string& name) {
  const data::h5::File f = data::h5::File::open_read(file);
  const data::h5::Dataset d = f.open_dataset(name);
  return torch::tensor(d.read_all_f64(), torch::kDouble).view(d.dims()).to(torch::kFloat);
}

inline train::Lpips formula_lpips(uint64_t backbone_seed, const std::string& heads_h5) {
  train::Lpips net;
  for (const train::VggConv& c : train::vgg16_convs()) {
    const std::string name = "features." + std::to_string(c.index) + ".";
    const int64_t fan_in = int64_t(c.in) * 9;
    net.conv_w.push_back(formula_tensor(name + "weight", {c.out, c.in, 3, 3}, backbone_seed, formula_vgg_e(fan_in, false)));
    net.conv_b.push_back(formula_tensor(name + "bias", {c.out}, backbone_seed, formula_vgg_e(fan_in, true)));
  }
  for (int k = 0; k < 5; ++k)
    net.lin.push_back(read_h5_float(heads_h5, "heads/lin" + std::to_string(k) + ".model.1.weight"));
  return net;
}

}  // namespace sg::test
