#include "data/shard_reader.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "core/json_file.h"
#include "data/sharder.h"

namespace fs = std::filesystem;

namespace sg::data {
namespace {

// The format's datasets (datasets/README.md) at store size S: element type and per-sample shape.
// The sharder writes exactly these; callers type and size their buffers by them.
std::map<std::string, std::pair<h5::Type, std::vector<int64_t>>> format_layout(int64_t S) {
  return {{"images", {h5::Type::u8, {S, S, 3}}}, {"index", {h5::Type::i64, {}}},
          {"albedo", {h5::Type::u8, {S, S, 3}}}, {"mask", {h5::Type::u8, {S, S}}},
          {"depth", {h5::Type::f32, {S, S}}},   {"normal", {h5::Type::f32, {S, S, 3}}},
          {"pose", {h5::Type::f32, {2}}},       {"light", {h5::Type::f32, {4}}}};
}

// "[16, 16, 3]" (a manifest's JSON list) and "(4, 16, 16, 3) uint8" (an array as numpy prints it).
std::string list_text(const std::vector<int64_t>& v, const char* open, const char* close) {
  std::string s = open;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + (v.size() == 1 && *open == '(' ? "," : "") + close;
}
std::string array_text(const std::vector<int64_t>& dims, h5::Type t) {
  return list_text(dims, "(", ")") + " " + h5::type_name(t);
}

// The largest stored side a recipe or the generator can produce (recipe step sizes are 4..4096):
// a manifest claiming more is not ours, and would make callers allocate S·S·3 per sample.
constexpr int64_t kMaxStoreSize = 4096;

}  // namespace

ShardReader::ShardReader(const std::string& dir)
    : dir_(dir), manifest_path_((fs::path(dir) / "manifest.json").string()) {
  const std::string& mp = manifest_path_;
  if (!fs::exists(mp))
    throw FormatError("no manifest.json in '" + dir + "': not a finished shard directory (run `shadegan shard`)");
  manifest_ = read_json(mp);
  // A hand-edited or foreign manifest can hold any JSON: a wrong type is a FormatError naming it.
  try {
    const int version = manifest_.value("format_version", 0);
    if (manifest_.value("format", "") != kShardFormat || version < kShardFormatOldestRead || version > kShardFormatVersion)
      throw FormatError("'" + mp + "' is not a " + std::string(kShardFormat) + " v" +
                        std::to_string(kShardFormatOldestRead) + "..v" + std::to_string(kShardFormatVersion) + " manifest");
    store_size_ = manifest_.at("store_size").get<int>();
    flip_ = manifest_.at("flip").get<std::string>();
    offsets_.push_back(0);
    for (const auto& s : manifest_.at("shards")) {
      const int64_t n = s.at("count").get<int64_t>();
      if (n < 0) throw FormatError("'" + mp + "' gives a shard a negative count");
      files_.push_back((fs::path(dir) / s.at("file").get<std::string>()).string());
      offsets_.push_back(offsets_.back() + n);
    }
    check_layouts();
  } catch (const nlohmann::json::exception& e) {
    throw FormatError("'" + mp + "' is not a valid shard manifest: " + e.what());
  }
  count_ = offsets_.back();
  open_.resize(files_.size());
  datasets_.resize(files_.size());
}

// The manifest's sample shapes must be the format's layout at its store_size: callers size
// buffers from store_size, the files are checked against the shapes, so the two must agree.
void ShardReader::check_layouts() {
  const std::string& mp = manifest_path_;
  if (store_size_ < 1 || store_size_ > kMaxStoreSize)
    throw FormatError("'" + mp + "' gives store_size " + std::to_string(store_size_) + "; expected 1.." +
                      std::to_string(kMaxStoreSize));
  const auto format = format_layout(store_size_);
  const nlohmann::json& shapes = manifest_.at("sample_shapes");
  if (!shapes.is_object() || !shapes.contains("images"))
    throw FormatError("'" + mp + "': sample_shapes must be an object naming at least 'images'");
  for (const auto& [name, shape] : shapes.items()) {
    const auto it = format.find(name);
    if (it == format.end())
      throw FormatError("'" + mp + "' lists dataset '" + name + "', which is not part of the " +
                        std::string(kShardFormat) + " format");
    const auto& [type, want] = it->second;
    const std::vector<int64_t> got = shape.get<std::vector<int64_t>>();
    if (got != want)
      throw FormatError("'" + mp + "' gives dataset '" + name + "' the sample shape " + list_text(got, "[", "]") +
                        ", but store_size " + std::to_string(store_size_) + " means " + list_text(want, "[", "]"));
    layouts_[name] = {type, want};
  }
}

// Opens shard k and checks its sample count and every dataset the manifest lists before any
// row is read: a shard from another run (other size or types) must not be read into buffers
// sized from this manifest.
void ShardReader::open_shard(size_t k) {
  auto file = std::make_unique<h5::File>(h5::File::open_read(files_[k]));
  const int64_t n = offsets_[k + 1] - offsets_[k];
  const int64_t held = file->attr_int("count");
  if (held != n)
    throw FormatError("'" + files_[k] + "' holds " + std::to_string(held) + " samples but '" + manifest_path_ +
                      "' says " + std::to_string(n));
  for (const auto& [name, layout] : layouts_) {
    auto d = std::make_unique<h5::Dataset>(file->open_dataset(name));
    std::vector<int64_t> want = layout.sample_shape;
    want.insert(want.begin(), n);
    if (d->dims() != want || d->type() != layout.type)
      throw FormatError("'" + files_[k] + "' dataset '" + name + "' holds " + array_text(d->dims(), d->type()) +
                        " but '" + manifest_path_ + "' says " + array_text(want, layout.type) +
                        " (a shard from another run, or a damaged set: shard it again)");
    datasets_[k][name] = std::move(d);
  }
  open_[k] = std::move(file);
}

h5::Dataset& ShardReader::dataset(size_t k, const std::string& name) {
  if (!open_[k]) open_shard(k);
  const auto it = datasets_[k].find(name);
  if (it == datasets_[k].end())
    throw FormatError("dataset '" + name + "' is not in the shards of '" + dir_ + "'");
  return *it->second;
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

Pixels ShardReader::read_images(int64_t first, int64_t n) {
  Pixels out(static_cast<size_t>(n * sample_elements("images")));
  read("images", first, n, out.data());
  return out;
}

}  // namespace sg::data
