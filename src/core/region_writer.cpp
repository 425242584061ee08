#include "core/region_writer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/error.h"

namespace sg {
namespace {

// 2 MiB, on a 2 MiB boundary: the disk sees few, long writes, and the stage can be one huge
// page, which the kernel pins for each direct write in one piece instead of 512 (a direct write
// cost ~15 us of CPU per 197 kB image with 4 KiB pages, ~10 with a huge page). Each piece is
// hashed right after it is copied in, while it is in the cache.
constexpr size_t kStage = size_t{2} << 20;

uint8_t* stage_alloc() {
  auto* p = static_cast<uint8_t*>(std::aligned_alloc(kStage, kStage));
  // Only advice: where transparent huge pages are off, the stage is 512 small pages.
  if (p) (void)::madvise(p, kStage, MADV_HUGEPAGE);
  return p;
}

}  // namespace

void RegionWriter::Free::operator()(uint8_t* p) const { std::free(p); }

RegionWriter::RegionWriter(const std::string& path)
    : path_(path), stage_(stage_alloc()) {
  if (!stage_) throw std::bad_alloc();
  fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd_ < 0) throw_errno("cannot open for writing", path);
  // Refused (EINVAL) where the file system has no direct I/O: everything goes through fd_.
  direct_fd_ = ::open(path.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC);
}

RegionWriter::~RegionWriter() {
  if (direct_fd_ >= 0) ::close(direct_fd_);
  if (fd_ >= 0) ::close(fd_);
  direct_fd_ = fd_ = -1;
}

void RegionWriter::begin_region(int64_t offset) {
  flush(true);
  if (offset < hashed_to_) throw IoError("regions of '" + path_ + "' out of order or overlapping");
  hash_file_bytes(hashed_to_, offset);
  stage_offset_ = offset;
  region_direct_ = direct_fd_ >= 0 && offset % static_cast<int64_t>(kAlign) == 0;
}

void RegionWriter::append(const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    const size_t take = std::min(n, kStage - staged_);
    std::memcpy(stage_.get() + staged_, p, take);
    hash_.update(stage_.get() + staged_, take);  // while the bytes are in the cache
    staged_ += take;
    hashed_to_ = stage_offset_ + static_cast<int64_t>(staged_);
    p += take;
    n -= take;
    if (staged_ == kStage) flush(false);
  }
}

std::string RegionWriter::finish() {
  flush(true);
  struct stat st {};
  if (::fstat(fd_, &st) != 0) throw_errno("cannot stat", path_);
  hash_file_bytes(hashed_to_, static_cast<int64_t>(st.st_size));
  return hash_.hex();
}

// Writes the staged bytes: whole 4 KiB blocks past the page cache when the region allows it,
// the rest (a region's unaligned tail) through it.
void RegionWriter::flush(bool final) {
  if (staged_ == 0) return;
  size_t direct_n = 0;
  if (region_direct_) direct_n = final ? staged_ / kAlign * kAlign : staged_;  // a full stage is aligned
  if (direct_n > 0) write_at(direct_fd_, stage_.get(), direct_n, stage_offset_);
  if (direct_n < staged_)
    write_at(fd_, stage_.get() + direct_n, staged_ - direct_n, stage_offset_ + static_cast<int64_t>(direct_n));
  stage_offset_ += static_cast<int64_t>(staged_);
  staged_ = 0;
}

void RegionWriter::write_at(int fd, const uint8_t* p, size_t n, int64_t offset) {
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, p, n, offset);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && fd == direct_fd_ && errno == EINVAL) {
      // The file system wants another alignment than 4 KiB, or none of it: page cache from now on.
      ::close(direct_fd_);
      direct_fd_ = -1;
      region_direct_ = false;
      fd = fd_;
      continue;
    }
    if (w < 0) throw_errno("cannot write", path_);  // e.g. "No space left on device"
    if (w == 0) throw IoError("cannot write '" + path_ + "': no progress");
    p += w;
    n -= static_cast<size_t>(w);
    offset += w;
    if (fd == direct_fd_ && n % kAlign != 0) fd = fd_;  // a short direct write: finish buffered
  }
}

// Bytes [from, to) as they are in the file (what HDF5 wrote), into the hash.
void RegionWriter::hash_file_bytes(int64_t from, int64_t to) {
  while (from < to) {
    const size_t want = static_cast<size_t>(std::min<int64_t>(to - from, static_cast<int64_t>(kStage)));
    const ssize_t r = ::pread(fd_, stage_.get(), want, from);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw_errno("cannot read", path_);
    if (r == 0) throw IoError("'" + path_ + "' ends at byte " + std::to_string(from) + ", before " + std::to_string(to));
    hash_.update(stage_.get(), static_cast<size_t>(r));
    from += r;
  }
  hashed_to_ = std::max(hashed_to_, to);
}

}  // namespace sg
