#pragma once
// How images reach the FID Inception network. The two reference libraries differ here, so their
// numbers are not interchangeable (spec §10.3, §10.4); both are offered:
//   torch-fidelity (eval_metrics.py, the paper's numbers): cast 0..255 to float, resize to
//     299x299 with TensorFlow 1.x bilinear semantics (source = dst * in/out, no half-pixel
//     offset), then (x - 128) / 128;
//   pytorch-fid (the reference's in-training FID): x / 255, PyTorch bilinear resize
//     (align_corners=false, half-pixel centres), then 2x - 1.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

namespace sg::metrics {

enum class InceptionInput { torch_fidelity, pytorch_fid };

// "torch-fidelity" | "pytorch-fid"; ConfigError listing both otherwise.
InceptionInput inception_input_from_name(const std::string& name);
const char* inception_input_name(InceptionInput mode);

// TensorFlow 1.x tf.image.resize_bilinear(align_corners=False) of (B, C, H, W) float32, as
// torch-fidelity's interpolate_bilinear_2d_like_tensorflow1x (method 'slow') computes it: the
// same float32 operations in the same order, so the result is bit-identical on the CPU.
at::Tensor resize_bilinear_tf1(const at::Tensor& images, int64_t height, int64_t width);

// (B, 3, H, W) images, uint8 or floating with values in [0, 255], to the network's
// (B, 3, 299, 299) float32 input.
at::Tensor inception_preprocess(const at::Tensor& images, InceptionInput mode);

}  // namespace sg::metrics
