#include "train/data_silhouette.h"

#include <vector>

#include "data/shard_reader.h"

namespace sg::train {

at::Tensor data_mean_silhouette(const std::string& shard_dir, int64_t size) {
  data::ShardReader reader(shard_dir);
  if (!reader.has("mask") || reader.count() == 0) return {};
  const int64_t n = reader.count(), S = reader.store_size();
  std::vector<uint8_t> masks(static_cast<size_t>(n * S * S));
  reader.read("mask", 0, n, masks.data());
  // Masks are 0/1; the mean over images of each pixel, then over the two flips.
  at::Tensor m = at::from_blob(masks.data(), {n, S, S}, at::kByte).to(at::kFloat).mean(0);
  m = (m + m.flip({1})) / 2;
  if (S % size == 0) return at::avg_pool2d(m.unsqueeze(0), {S / size, S / size}).squeeze(0).contiguous();
  const at::Tensor idx = ((at::arange(size, at::kDouble) + 0.5) * double(S) / double(size)).floor().to(at::kLong);
  return m.index_select(0, idx).index_select(1, idx).contiguous();
}

}  // namespace sg::train
