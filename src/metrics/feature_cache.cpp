#include "metrics/feature_cache.h"

#include <ATen/ATen.h>

#include <filesystem>

#include "core/atomic_file.h"
#include "core/hash.h"
#include "data/hdf5.h"

namespace sg::metrics {

std::string feature_cache_path(const std::string& dir, const nlohmann::json& key) {
  return dir + "/real-" + hash_bytes(key.dump()).substr(0, 16) + ".h5";
}

std::optional<at::Tensor> read_feature_cache(const std::string& path, const nlohmann::json& key) {
  if (!std::filesystem::exists(path)) return std::nullopt;
  data::h5::File f = data::h5::File::open_read(path);
  if (!f.has_attr("key") || f.attr_string("key") != key.dump() || !f.has("features"))
    return std::nullopt;
  data::h5::Dataset d = f.open_dataset("features");
  if (d.dims().size() != 2 || d.type() != data::h5::Type::f32) return std::nullopt;
  at::Tensor t = at::empty({d.dims()[0], d.dims()[1]}, at::kFloat);
  d.read_rows(0, d.dims()[0], t.data_ptr<float>());
  return t;
}

void write_feature_cache(const std::string& path, const nlohmann::json& key, const at::Tensor& features) {
  create_dirs(std::filesystem::path(path).parent_path().string());
  const std::string tmp = temp_path_for(path);
  {
    at::Tensor t = features.to(at::kFloat).contiguous();
    data::h5::File f = data::h5::File::create(tmp);
    f.set_attr("format", std::string("shadegan-features"));
    f.set_attr("key", key.dump());
    data::h5::Dataset d = f.create_dataset("features", data::h5::Type::f32, {t.size(0), t.size(1)}, 0);
    d.write_rows(0, t.size(0), t.data_ptr<float>());
    f.close();
  }
  commit_file(tmp, path);
}

}  // namespace sg::metrics
