#pragma once
// Reading a sharded dataset back: manifest.json plus shard-NNNNN.h5 files. Samples are numbered
// 0..count-1 in shard order, then row order (the order the sharder wrote them).
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/hdf5.h"
#include "data/image.h"

namespace sg::data {

// Shards are not trusted: every buffer a caller sizes from the manifest (store_size,
// sample_elements) is checked against what HDF5 will write into it. The manifest's sample shapes
// must be the format's layout at its store_size (datasets/README.md), and when a shard file is
// first opened each of its datasets must have exactly (shard count, sample shape...) elements of
// the format's type, else FormatError naming the file, the dataset, what the manifest says and
// what the file holds.
class ShardReader {
 public:
  // FormatError naming the directory or manifest.json when it is missing, from another format,
  // or its sample shapes are not the format's layout at its store_size; later reads throw
  // FormatError naming the shard file when its count, a dataset's dims or its type disagree.
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
  Pixels read_images(int64_t first, int64_t n);  // (not zeroed before the read fills it)

 private:
  // What every shard's dataset must be: the format's element type and the manifest's (checked)
  // per-sample shape.
  struct Layout {
    h5::Type type;
    std::vector<int64_t> sample_shape;
  };
  void check_layouts();
  void open_shard(size_t shard);
  h5::Dataset& dataset(size_t shard, const std::string& name);
  std::string dir_, manifest_path_;
  std::map<std::string, Layout> layouts_;
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
