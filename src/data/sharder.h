#pragma once
// Sharding: a ShardSource into HDF5 files of `shard_size` items each, in parallel over MPI.
// Shard k holds items [k·shard_size, (k+1)·shard_size) minus the skipped ones and is written by
// rank k mod size, so the files are byte-identical whatever the number of ranks. Each finished
// shard is renamed into place and then gets a marker (parts/shard-NNNNN.json: fingerprint, size,
// XXH3, skipped items); a rerun keeps every shard whose marker and file check out and redoes the
// rest. Rank 0 writes manifest.json last. Layout: datasets/README.md.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "data/shard_source.h"

namespace sg::data {

constexpr const char* kShardFormat = "shadegan-shard";
// 2: per-sample datasets contiguous and 4 KiB-aligned when uncompressed (1: chunked by sample).
// Readers read both (the datasets, types and shapes are the same).
constexpr int kShardFormatVersion = 2;
constexpr int kShardFormatOldestRead = 1;

struct ShardOptions {
  std::string out_dir;
  int64_t shard_size = 256;
  // zlib level of the pixel chunks; 0 stores them as they are. Deflate on photographic pixels
  // saves ~15 % of the bytes at ~12x the cost of decoding the JPEG (datasets/README.md).
  int deflate = 0;
  bool verify = false;  // rehash kept shards instead of trusting marker + size
};

// Collective over MPI (every rank calls it with the same source and options). Returns the
// manifest (on every rank). Bad items are skipped and listed, never fatal; an unwritable output
// or a failing write is an IoError naming the path (on every rank).
nlohmann::json run_sharding(const ShardSource& source, const ShardOptions& opt);

std::string shard_file_name(int64_t k);  // "shard-00000.h5"

}  // namespace sg::data
