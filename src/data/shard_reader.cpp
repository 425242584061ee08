#include "data/shard_reader.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "core/json_file.h"
#include "data/sharder.h"

namespace fs = std::filesystem;

namespace sg::data {

ShardReader::ShardReader(const std::string& dir) : dir_(dir) {
  const std::string mp = (fs::path(dir) / "manifest.json").string();
  if (!fs::exists(mp))
    throw FormatError("no manifest.json in '" + dir + "': not a finished shard directory (run `shadegan shard`)");
  manifest_ = read_json(mp);
  if (manifest_.value("format", "") != kShardFormat || manifest_.value("format_version", 0) != kShardFormatVersion)
    throw FormatError("'" + mp + "' is not a " + std::string(kShardFormat) + " v" +
                      std::to_string(kShardFormatVersion) + " manifest");
  store_size_ = manifest_.at("store_size").get<int>();
  flip_ = manifest_.at("flip").get<std::string>();
  offsets_.push_back(0);
  for (const auto& s : manifest_.at("shards")) {
    files_.push_back((fs::path(dir) / s.at("file").get<std::string>()).string());
    offsets_.push_back(offsets_.back() + s.at("count").get<int64_t>());
  }
  count_ = offsets_.back();
  open_.resize(files_.size());
  datasets_.resize(files_.size());
}

h5::Dataset& ShardReader::dataset(size_t k, const std::string& name) {
  if (!open_[k]) {
    open_[k] = std::make_unique<h5::File>(h5::File::open_read(files_[k]));
    const int64_t n = open_[k]->attr_int("count");
    if (n != offsets_[k + 1] - offsets_[k])
      throw FormatError("'" + files_[k] + "' holds " + std::to_string(n) + " samples but the manifest says " +
                        std::to_string(offsets_[k + 1] - offsets_[k]));
  }
  auto& slot = datasets_[k][name];
  if (!slot) slot = std::make_unique<h5::Dataset>(open_[k]->open_dataset(name));
  return *slot;
}

bool ShardReader::has(const std::string& name) const {
  return manifest_.at("sample_shapes").contains(name);
}

int64_t ShardReader::sample_elements(const std::string& name) const {
  if (!has(name)) throw FormatError("dataset '" + name + "' is not in the shards of '" + dir_ + "'");
  int64_t n = 1;
  for (const auto& d : manifest_.at("sample_shapes").at(name)) n *= d.get<int64_t>();
  return n;
}

void ShardReader::read(const std::string& name, int64_t first, int64_t n, void* out) {
  if (first < 0 || n < 0 || first + n > count_)
    throw FormatError("samples " + std::to_string(first) + ".." + std::to_string(first + n) + " out of range (" +
                      std::to_string(count_) + ") in '" + dir_ + "'");
  char* dst = static_cast<char*>(out);
  while (n > 0) {
    const size_t k = static_cast<size_t>(std::upper_bound(offsets_.begin(), offsets_.end(), first) - offsets_.begin() - 1);
    const int64_t row = first - offsets_[k];
    const int64_t take = std::min(n, offsets_[k + 1] - first);
    h5::Dataset& d = dataset(k, name);
    d.read_rows(row, take, dst);
    dst += static_cast<size_t>(take * d.row_elements()) * h5::type_size(d.type());
    first += take;
    n -= take;
  }
}

std::vector<uint8_t> ShardReader::read_images(int64_t first, int64_t n) {
  std::vector<uint8_t> out(static_cast<size_t>(n * sample_elements("images")));
  read("images", first, n, out.data());
  return out;
}

}  // namespace sg::data
