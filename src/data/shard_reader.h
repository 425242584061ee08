#pragma once
// Reading a sharded dataset back: manifest.json plus shard-NNNNN.h5 files. Samples are numbered
// 0..count-1 in shard order, then row order (the order the sharder wrote them).
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/hdf5.h"

namespace sg::data {

class ShardReader {
 public:
  // FormatError naming the directory when manifest.json is missing, from another format, or a
  // shard's recorded count disagrees with its file.
  explicit ShardReader(const std::string& dir);
  int64_t count() const { return count_; }
  int store_size() const { return store_size_; }
  const std::string& flip() const { return flip_; }  // before_resize | after_resize
  const nlohmann::json& manifest() const { return manifest_; }
  bool has(const std::string& dataset) const;
  // Elements per sample of a dataset (S·S·3 for images).
  int64_t sample_elements(const std::string& dataset) const;
  // Samples [first, first+n) of `dataset` (may span shards) into `out` (element type of the
  // dataset: uint8 images/albedo/mask, float depth/normal/pose/light, int64 index).
  void read(const std::string& dataset, int64_t first, int64_t n, void* out);
  std::vector<uint8_t> read_images(int64_t first, int64_t n);

 private:
  h5::Dataset& dataset(size_t shard, const std::string& name);
  std::string dir_;
  nlohmann::json manifest_;
  int64_t count_ = 0;
  int store_size_ = 0;
  std::string flip_;
  std::vector<std::string> files_;
  std::vector<int64_t> offsets_;  // first sample of each shard; offsets_.back() = count
  std::vector<std::unique_ptr<h5::File>> open_;
  std::vector<std::map<std::string, std::unique_ptr<h5::Dataset>>> datasets_;
};

}  // namespace sg::data
