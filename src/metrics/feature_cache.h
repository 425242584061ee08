#pragma once
// Real-image Inception features, computed once and kept in HDF5: the real side of FID and KID
// depends only on the dataset, the image size, the count, how images reach the network (input
// mode, JPEG round trip, flips) and the Inception weights — not on the model being evaluated,
// so every eval of every run of a sweep over one dataset reuses one file.
#include <ATen/core/Tensor.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace sg::metrics {

// <dir>/real-<xxh3 of key>.h5. The key is stored in the file and compared on read, so a hash
// collision cannot hand back another set's features.
std::string feature_cache_path(const std::string& dir, const nlohmann::json& key);

// The (n, d) float32 features of a cache file whose stored key equals `key`; nullopt when the
// file is absent or holds another key.
std::optional<at::Tensor> read_feature_cache(const std::string& path, const nlohmann::json& key);

// Written to a temporary name and renamed into place (concurrent evals of a sweep may race to
// write the same file; either copy is right).
void write_feature_cache(const std::string& path, const nlohmann::json& key, const at::Tensor& features);

}  // namespace sg::metrics
