#pragma once
// Filling the data regions of a file another writer (HDF5) laid out and left unwritten, with the
// whole file's XXH3 computed on the way (hash_file's value, without reading the file back).
//
// Why: storing a shard through the page cache cost more CPU than the rest of sharding bar the
// decoding (the kernel's copy of every byte, then an fsync writing the dirty pages, then reading
// the file back to hash it). Regions that start on a 4 KiB boundary are written with O_DIRECT
// from a page-aligned staging buffer: the disk reads the bytes straight from it, and they are
// hashed there while still in the CPU's cache. Where the file system refuses O_DIRECT (tmpfs on
// older kernels, some network file systems) or a region is not aligned, the same bytes go
// through the page cache instead; the file is the same either way.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/error.h"
#include "core/hash.h"

namespace sg {

class RegionWriter {
 public:
  // Opens the existing file `path` (IoError naming it). The bytes outside the regions are
  // taken as they are in the file.
  explicit RegionWriter(const std::string& path);
  ~RegionWriter();
  RegionWriter(const RegionWriter&) = delete;
  RegionWriter& operator=(const RegionWriter&) = delete;

  // Starts a region at byte `offset`. Regions come in increasing order and do not overlap.
  void begin_region(int64_t offset);
  // The region's next bytes.
  void append(const void* data, size_t n);
  // Writes what is staged, then hashes the file's bytes after the last region; returns the
  // file's XXH3 (hash_file's hex). The caller still fsyncs the file (commit_file).
  std::string finish();
  // Whether bytes went past the page cache (false after a fallback), for tests and logs.
  bool direct() const { return direct_fd_ >= 0; }

  static constexpr size_t kAlign = 4096;  // O_DIRECT's offset, length and memory alignment

 private:
  void flush(bool final);
  void write_at(int fd, const uint8_t* p, size_t n, int64_t offset);
  void hash_file_bytes(int64_t from, int64_t to);
  std::string path_;
  int fd_ = -1;         // buffered: reads the bytes outside the regions, writes unaligned pieces
  int direct_fd_ = -1;  // O_DIRECT, or -1
  struct Free {
    void operator()(uint8_t* p) const;
  };
  std::unique_ptr<uint8_t, Free> stage_;
  size_t staged_ = 0;
  int64_t stage_offset_ = 0;  // file offset of stage_[0]
  int64_t hashed_to_ = 0;     // every byte before it is in hash_
  bool region_direct_ = false;
  Hasher hash_;
};

}  // namespace sg
