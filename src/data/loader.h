#pragma once
// The training loader: random batches of shard images at the curriculum's current img_size,
// normalised to [−1, 1], flipped horizontally with p = 0.5 before or after the nearest resize as
// the dataset's recipe says (spec §7), as plain float buffers (N, 3, S, S) — the training library
// turns them into tensors; data does not link LibTorch.
//
// Sampling: a permutation of all samples drawn from `seed` splits them into `ranks` disjoint,
// equal subsets (the remainder is dropped, so every rank has the same number of batches per
// epoch and the ranks step in lockstep); each epoch visits the rank's subset in an order and with
// flips drawn from (seed, epoch, rank); the last partial batch is dropped (drop_last). A position
// (epoch, cursor) is all the state there is: restoring it continues the exact same sequence.
//
// The rank's subset at the current size (both flip variants) is held in memory when it fits
// `cache_bytes`; otherwise samples are read from the shards per batch. Either way a background
// thread prepares the next `prefetch` batches, so training does not wait on I/O. Only that
// thread touches HDF5 while it runs (the HDF5 build is not thread-safe).
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "data/shard_reader.h"

namespace sg::data {

struct LoaderOptions {
  std::string dir;  // shard directory (manifest.json)
  int64_t batch_size = 16;
  int img_size = 64;
  uint64_t seed = 0;
  int rank = 0, ranks = 1;
  bool flip = true;
  int64_t cache_bytes = int64_t(4) << 30;
  int prefetch = 2;
};

struct LoaderState {
  int64_t epoch = 0;
  int64_t cursor = 0;  // batches already handed out in this epoch
};

struct Batch {
  std::vector<float> data;       // N·3·S·S, channel-major per sample, in [−1, 1]
  std::vector<int64_t> shape;    // {N, 3, S, S}
  std::vector<int64_t> samples;  // sample numbers in the shard set
  std::vector<uint8_t> flipped;
  LoaderState position;          // where this batch was taken from
};

class Loader {
 public:
  explicit Loader(LoaderOptions opt);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  Batch next();
  LoaderState state() const { return pos_; }  // the position of the batch next() returns
  void restore(LoaderState s);
  // A curriculum stage changed the size or batch size: later batches use it (the position is
  // kept; batches_per_epoch may change).
  void set_img_size(int img_size);
  void set_batch_size(int64_t batch_size);

  int64_t subset_size() const { return static_cast<int64_t>(subset_.size()); }
  const std::vector<int64_t>& subset() const { return subset_; }
  int64_t batches_per_epoch() const;
  bool cached() const { return !cache_.empty(); }

 private:
  Batch make_batch(LoaderState at);
  void sample_pixels(int64_t slot, bool flip, uint8_t* out);  // S·S·3 of subset element `slot`
  void build_cache();
  void start();
  void stop();
  void work();

  LoaderOptions opt_;
  ShardReader reader_;
  std::vector<int64_t> subset_;   // this rank's sample numbers
  std::vector<uint8_t> cache_;    // per subset slot: plain then flipped, S·S·3 each
  LoaderState pos_;               // of the next batch handed out
  std::vector<int64_t> order_;    // the epoch's visiting order of subset slots (worker only)
  int64_t order_epoch_ = -1;
  // background preparation
  std::thread worker_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> queue_;
  LoaderState work_pos_;
  bool stopping_ = false;
  std::string error_;
};

}  // namespace sg::data
