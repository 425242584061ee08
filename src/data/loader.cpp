#include "data/loader.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/log.h"
#include "data/image.h"
#include "data/rng.h"

namespace sg::data {
namespace {

enum Stream : uint64_t { kSubset = 1000, kOrder = 2000, kFlip = 3000 };

void shuffle(std::vector<int64_t>& v, Rng& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
}

}  // namespace

Loader::Loader(LoaderOptions opt) : opt_(std::move(opt)), reader_(opt_.dir) {
  if (opt_.ranks < 1 || opt_.rank < 0 || opt_.rank >= opt_.ranks)
    throw ConfigError("loader: rank " + std::to_string(opt_.rank) + " of " + std::to_string(opt_.ranks));
  if (opt_.batch_size < 1) throw ConfigError("loader: batch_size must be >= 1");
  if (opt_.img_size < 1) throw ConfigError("loader: img_size must be >= 1");
  if (opt_.prefetch < 1) throw ConfigError("loader: prefetch must be >= 1");
  std::vector<int64_t> all(static_cast<size_t>(reader_.count()));
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
  Rng rng(opt_.seed, 0, kSubset);
  shuffle(all, rng);
  const int64_t per_rank = reader_.count() / opt_.ranks;
  for (int64_t j = 0; j < per_rank; ++j) subset_.push_back(all[static_cast<size_t>(j * opt_.ranks + opt_.rank)]);
  if (batches_per_epoch() == 0)
    throw ConfigError("loader: " + std::to_string(per_rank) + " samples per rank in '" + opt_.dir +
                      "' are fewer than one batch of " + std::to_string(opt_.batch_size));
  build_cache();
  start();
}

Loader::~Loader() { stop(); }

int64_t Loader::batches_per_epoch() const { return subset_size() / opt_.batch_size; }

void Loader::build_cache() {
  cache_.clear();
  const int64_t S = opt_.img_size, B = reader_.store_size();
  const int64_t bytes = subset_size() * S * S * 3 * 2;
  if (bytes > opt_.cache_bytes) {
    log::info("loader: {} samples at {} px need {} MB, more than the cache budget; reading shards per batch",
              subset_size(), S, bytes >> 20);
    return;
  }
  cache_.resize(static_cast<size_t>(bytes));
  // Read in sample order, a block at a time, and place each sample in its slot.
  std::vector<std::pair<int64_t, int64_t>> order;  // (sample, slot)
  for (size_t k = 0; k < subset_.size(); ++k) order.emplace_back(subset_[k], static_cast<int64_t>(k));
  std::sort(order.begin(), order.end());
  const int64_t per = B * B * 3;
  constexpr int64_t kBlock = 64;
  Pixels block;
  for (size_t i = 0; i < order.size();) {
    const int64_t first = order[i].first;
    const int64_t n = std::min<int64_t>(kBlock, reader_.count() - first);
    block = reader_.read_images(first, n);
    for (; i < order.size() && order[i].first < first + n; ++i) {
      Image base(static_cast<int>(B), static_cast<int>(B));
      std::memcpy(base.rgb.data(), block.data() + (order[i].first - first) * per, static_cast<size_t>(per));
      uint8_t* dst = cache_.data() + order[i].second * S * S * 3 * 2;
      for (int f = 0; f < 2; ++f) {
        Image out;
        if (reader_.flip() == "before_resize")
          out = resize_nearest_tensor(f ? hflip(base) : base, static_cast<int>(S), static_cast<int>(S));
        else {
          out = resize_nearest_tensor(base, static_cast<int>(S), static_cast<int>(S));
          if (f) out = hflip(out);
        }
        std::memcpy(dst + f * S * S * 3, out.rgb.data(), static_cast<size_t>(S * S * 3));
      }
    }
  }
}

void Loader::sample_pixels(int64_t slot, bool flip, uint8_t* out) {
  const int64_t S = opt_.img_size;
  if (!cache_.empty()) {
    std::memcpy(out, cache_.data() + (slot * 2 + (flip ? 1 : 0)) * S * S * 3, static_cast<size_t>(S * S * 3));
    return;
  }
  const int B = reader_.store_size();
  Image base(B, B);
  reader_.read("images", subset_[static_cast<size_t>(slot)], 1, base.rgb.data());
  Image img;
  if (reader_.flip() == "before_resize") {
    img = resize_nearest_tensor(flip ? hflip(base) : base, static_cast<int>(S), static_cast<int>(S));
  } else {
    img = resize_nearest_tensor(base, static_cast<int>(S), static_cast<int>(S));
    if (flip) img = hflip(img);
  }
  std::memcpy(out, img.rgb.data(), static_cast<size_t>(S * S * 3));
}

Batch Loader::make_batch(LoaderState at) {
  const int64_t n = subset_size(), B = opt_.batch_size, S = opt_.img_size;
  // The epoch's order and flips depend on (seed, epoch, rank) only.
  if (order_epoch_ != at.epoch || static_cast<int64_t>(order_.size()) != n) {
    order_.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) order_[static_cast<size_t>(i)] = i;
    Rng order(opt_.seed, static_cast<uint64_t>(at.epoch), kOrder + static_cast<uint64_t>(opt_.rank));
    shuffle(order_, order);
    order_epoch_ = at.epoch;
  }
  const std::vector<int64_t>& slots = order_;
  Batch b;
  b.position = at;
  b.shape = {B, 3, S, S};
  b.data.resize(static_cast<size_t>(B * 3 * S * S));
  std::vector<uint8_t> px(static_cast<size_t>(S * S * 3));
  for (int64_t j = 0; j < B; ++j) {
    const int64_t k = at.cursor * B + j;
    const int64_t slot = slots[static_cast<size_t>(k)];
    Rng coin(opt_.seed, static_cast<uint64_t>(at.epoch) * 1000003u + static_cast<uint64_t>(k),
             kFlip + static_cast<uint64_t>(opt_.rank));
    const bool flip = opt_.flip && coin.uniform() < 0.5;
    sample_pixels(slot, flip, px.data());
    float* dst = b.data.data() + j * 3 * S * S;
    for (int64_t p = 0; p < S * S; ++p)
      for (int c = 0; c < 3; ++c) dst[c * S * S + p] = px[static_cast<size_t>(p * 3 + c)] / 127.5f - 1.0f;
    b.samples.push_back(subset_[static_cast<size_t>(slot)]);
    b.flipped.push_back(flip ? 1 : 0);
  }
  return b;
}

void Loader::work() {
  for (;;) {
    LoaderState at;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return stopping_ || static_cast<int>(queue_.size()) < opt_.prefetch; });
      if (stopping_) return;
      at = work_pos_;
      if (++work_pos_.cursor >= batches_per_epoch()) {
        work_pos_.cursor = 0;
        ++work_pos_.epoch;
      }
    }
    Batch b;
    try {
      b = make_batch(at);
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lk(mu_);
      error_ = e.what();
      cv_.notify_all();
      return;
    }
    std::lock_guard<std::mutex> lk(mu_);
    if (stopping_) return;
    queue_.push_back(std::move(b));
    cv_.notify_all();
  }
}

void Loader::start() {
  stopping_ = false;
  queue_.clear();
  error_.clear();
  work_pos_ = pos_;
  worker_ = std::thread([this] { work(); });
}

void Loader::stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  queue_.clear();
}

Batch Loader::next() {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [&] { return !queue_.empty() || !error_.empty(); });
  if (queue_.empty()) throw FormatError("loader: " + error_);
  Batch b = std::move(queue_.front());
  queue_.pop_front();
  pos_ = b.position;
  if (++pos_.cursor >= batches_per_epoch()) {
    pos_.cursor = 0;
    ++pos_.epoch;
  }
  cv_.notify_all();
  return b;
}

void Loader::restore(LoaderState s) {
  if (s.epoch < 0 || s.cursor < 0 || s.cursor >= batches_per_epoch())
    throw FormatError("loader: position epoch " + std::to_string(s.epoch) + " cursor " + std::to_string(s.cursor) +
                      " is outside an epoch of " + std::to_string(batches_per_epoch()) + " batches");
  stop();
  pos_ = s;
  start();
}

void Loader::set_img_size(int img_size) {
  if (img_size < 1) throw ConfigError("loader: img_size must be >= 1");
  if (img_size == opt_.img_size) return;
  stop();
  opt_.img_size = img_size;
  build_cache();
  start();
}

void Loader::set_batch_size(int64_t batch_size) {
  if (batch_size < 1 || subset_size() / batch_size == 0)
    throw ConfigError("loader: batch_size " + std::to_string(batch_size) + " does not fit " +
                      std::to_string(subset_size()) + " samples per rank");
  if (batch_size == opt_.batch_size) return;
  stop();
  opt_.batch_size = batch_size;
  if (pos_.cursor >= batches_per_epoch()) pos_ = {pos_.epoch + 1, 0};
  start();
}

}  // namespace sg::data
