#include "model/block_cache.h"

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/memory_limit.h"

namespace sg::model {

namespace {

// Sizes are rounded up to 64 KiB: the same tensor shapes recur exactly, and a coarser grain
// would only waste memory on the 1-2 MiB blocks.
constexpr size_t kGrain = size_t(64) << 10;

size_t round_up(size_t n) { return (n + kGrain - 1) / kGrain * kGrain; }

// A fresh anonymous mapping (page-aligned, so also LibTorch's 64-byte alignment). No
// MADV_HUGEPAGE: measured here (THP in madvise mode, defrag madvise), first-touching 1 GiB with
// it took 0.13-4.1 s (direct compaction) against a steady 0.9 s with 4 KiB pages, and the warm
// writes were no faster.
void* map_block(size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

class BlockCache final : public c10::Allocator {
 public:
  explicit BlockCache(size_t cap) : cap_(cap) {}

  c10::DataPtr allocate(size_t n) const override {
    auto* self = const_cast<BlockCache*>(this);
    if (n < kMinBytes) {
      void* p = c10::alloc_cpu(n);
      return {p, p, &free_small, c10::Device(c10::DeviceType::CPU)};
    }
    if (!enabled_.load(std::memory_order_relaxed)) {
      void* p = c10::alloc_cpu(n);
      return {p, p, &free_small, c10::Device(c10::DeviceType::CPU)};
    }
    void* p = self->take(round_up(n));
    return {p, p, &free_any, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &free_any; }

  void set_enabled(bool on) { enabled_.store(on); }
  void trim() { release_all(); }

  BlockCacheStats stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return {hits_, misses_, int64_t(mapped_), int64_t(kept_), int64_t(peak_mapped_)};
  }

 private:
  static void free_small(void* p) { c10::free_cpu(p); }
  static void free_any(void* p);

  void* take(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.find(bytes);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        kept_ -= bytes;
        ++hits_;
        return p;
      }
      ++misses_;
    }
    void* p = map_block(bytes);
    if (!p) {
      // Out of address space or memory: give back what is kept and try once more.
      release_all();
      p = map_block(bytes);
      if (!p) throw std::bad_alloc();
    }
    std::lock_guard<std::mutex> lock(mu_);
    size_of_[p] = bytes;
    mapped_ += bytes;
    peak_mapped_ = std::max(peak_mapped_, mapped_);
    return p;
  }

  // Returns true when `p` is one of ours (and is now kept or unmapped).
  bool give_back(void* p) {
    std::vector<std::pair<void*, size_t>> drop;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = size_of_.find(p);
      if (it == size_of_.end()) return false;
      const size_t bytes = it->second;
      free_[bytes].push_back(p);
      kept_ += bytes;
      // Over the cap: unmap the largest kept blocks first (the rarest sizes to come back).
      while (kept_ > cap_) {
        auto big = std::prev(free_.end());
        while (big->second.empty() && big != free_.begin()) --big;
        if (big->second.empty()) break;
        drop.emplace_back(big->second.back(), big->first);
        big->second.pop_back();
        kept_ -= big->first;
        mapped_ -= big->first;
        size_of_.erase(drop.back().first);
      }
    }
    for (auto& [q, bytes] : drop) munmap(q, bytes);
    return true;
  }

  void release_all() {
    std::vector<std::pair<void*, size_t>> drop;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [bytes, list] : free_) {
        for (void* q : list) {
          drop.emplace_back(q, bytes);
          size_of_.erase(q);
          mapped_ -= bytes;
        }
        list.clear();
      }
      kept_ = 0;
    }
    for (auto& [q, bytes] : drop) munmap(q, bytes);
  }

  const size_t cap_;
  std::atomic<bool> enabled_{true};
  std::mutex mu_;
  std::map<size_t, std::vector<void*>> free_;  // kept blocks by size
  std::unordered_map<void*, size_t> size_of_;  // every mapped block of ours
  size_t mapped_ = 0, kept_ = 0, peak_mapped_ = 0;
  int64_t hits_ = 0, misses_ = 0;
};

// Never destroyed: tensors freed during static destruction still come back to it.
BlockCache* g_cache = nullptr;

void BlockCache::free_any(void* p) {
  if (!p) return;
  if (!g_cache || !g_cache->give_back(p)) c10::free_cpu(p);
}

}  // namespace

bool use_block_cache() {
  static const bool on = [] {
    const char* env = std::getenv("SG_BLOCK_CACHE");
    if (env && std::string(env) == "0") return false;
    // Kept free blocks count against a job's memory limit like blocks in use: at most a quarter
    // of what the process may take (MemAvailable, a Slurm job's cgroup), and 4 GiB.
    size_t cap_mb = 4096;
    const double avail = available_memory().bytes;
    if (avail < double(cap_mb) * 4 * (1 << 20)) cap_mb = size_t(avail / 4 / (1 << 20));
    if (const char* c = std::getenv("SG_BLOCK_CACHE_MB")) cap_mb = size_t(std::strtoull(c, nullptr, 10));
    g_cache = new BlockCache(cap_mb << 20);
    c10::SetCPUAllocator(g_cache, /*priority=*/1);
    return true;
  }();
  return on;
}

void set_block_cache_enabled(bool on) {
  if (g_cache) g_cache->set_enabled(on);
}

BlockCacheStats block_cache_stats() { return g_cache ? g_cache->stats() : BlockCacheStats{}; }

void trim_block_cache() {
  if (g_cache) g_cache->trim();
}

}  // namespace sg::model
