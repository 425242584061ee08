#pragma once
// A caching CPU allocator for LibTorch's large blocks (issue #23).
//
// Why: the SIREN's activations are (points x 256) float blocks of 50-100 MB, far above glibc's
// mmap threshold (at most 32 MB), so every one is a fresh mmap, page-faulted in 4 KiB at a time
// (the kernel zeroing each page) and unmapped again on free. Measured on a CelebA_ShadeGAN_view
// 32 px training iteration (bench_train): 11.8 GiB of fresh pages and 37-39% of the process's CPU
// time in the kernel. The same shapes come back every chunk, every pass and every iteration, so
// keeping freed blocks for the next tensor of the same size removes nearly all of it.
//
// Blocks of at least kMinBytes are rounded up to 64 KiB, mapped, and kept on free in a per-size
// list; smaller blocks go to LibTorch's default allocator as before (glibc's heap reuses them). The free blocks kept
// are capped (SG_BLOCK_CACHE_MB, default 4096): past the cap the largest are unmapped. Values are
// not touched: the arithmetic, and so every result, is the default allocator's.
#include <cstddef>
#include <cstdint>

namespace sg::model {

constexpr size_t kMinBytes = size_t(1) << 20;

// Makes the cache LibTorch's CPU allocator for the rest of the process (idempotent, thread-safe).
// SG_BLOCK_CACHE=0 in the environment leaves the default allocator in place (to compare the two
// in one run, or to rule the cache out). Returns whether the cache is in use.
bool use_block_cache();

// Turns an installed cache off (new large blocks from the default allocator again; the blocks
// kept stay kept for when it is turned back on) or on; a no-op when it is not installed. For
// benchmarks that compare the two within one process.
void set_block_cache_enabled(bool on);

// Unmaps every kept block (blocks in use are untouched). For when the shapes change for good: at
// a curriculum stage's new image size or batch the old sizes never come back, and the cap evicts
// the largest kept sizes first, so without this up to the old stage's working set (3.4 GiB at
// CelebA's 32 px) would stay mapped beside the new one for the rest of the run, which is what a
// Slurm job's memory limit would count.
void trim_block_cache();

struct BlockCacheStats {
  int64_t hits = 0, misses = 0;  // large allocations served from the cache / by a new mapping
  int64_t mapped_bytes = 0;      // mapped now, in use or kept
  int64_t kept_bytes = 0;        // free blocks kept for reuse
  int64_t peak_mapped_bytes = 0; // the most mapped at once
};
BlockCacheStats block_cache_stats();

}  // namespace sg::model
