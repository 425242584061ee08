// The caching CPU allocator (model/block_cache.h): large blocks come back for the next tensor of
// the same size, small ones are left to LibTorch, values are whatever is written (nothing is
// zeroed or altered), and turning the cache off bypasses it. Counts, never times.
#include <ATen/ATen.h>

#include <cstdlib>

#include "model/block_cache.h"
// doctest last: its CHECK must win over glog's, which LibTorch headers define.
#include <doctest/doctest.h>

using namespace sg::model;

TEST_CASE("block cache: a freed large block serves the next tensor of its size") {
  if (const char* e = std::getenv("SG_BLOCK_CACHE"); e && std::string(e) == "0") return;
  REQUIRE(use_block_cache());
  set_block_cache_enabled(true);
  const int64_t n = 3 << 20;  // 12 MiB of floats
  void* first = nullptr;
  {
    at::Tensor a = at::full({n}, 2.0f);
    first = a.data_ptr();
    CHECK(a.sum().item<double>() == 2.0 * n);
  }
  const BlockCacheStats before = block_cache_stats();
  CHECK(before.kept_bytes >= n * 4);
  at::Tensor b = at::empty({n});
  CHECK(b.data_ptr() == first);
  CHECK(block_cache_stats().hits == before.hits + 1);
  b.fill_(3.0f);
  CHECK(b.sum().item<double>() == 3.0 * n);
}

TEST_CASE("block cache: trimming unmaps the kept blocks and leaves those in use") {
  if (const char* e = std::getenv("SG_BLOCK_CACHE"); e && std::string(e) == "0") return;
  REQUIRE(use_block_cache());
  set_block_cache_enabled(true);
  at::Tensor in_use = at::full({4 << 20}, 5.0f);
  { at::Tensor freed = at::empty({6 << 20}); }
  const BlockCacheStats before = block_cache_stats();
  CHECK(before.kept_bytes >= (int64_t(6) << 22));
  trim_block_cache();
  const BlockCacheStats after = block_cache_stats();
  CHECK(after.kept_bytes == 0);
  CHECK(after.mapped_bytes == before.mapped_bytes - before.kept_bytes);
  CHECK(in_use.sum().item<double>() == 5.0 * (4 << 20));
  at::Tensor again = at::empty({6 << 20});  // a new mapping, not a kept block
  CHECK(block_cache_stats().misses == after.misses + 1);
}

TEST_CASE("block cache: small blocks and a cache turned off do not go through it") {
  if (const char* e = std::getenv("SG_BLOCK_CACHE"); e && std::string(e) == "0") return;
  REQUIRE(use_block_cache());
  const BlockCacheStats s0 = block_cache_stats();
  { at::Tensor small = at::ones({1000}); }
  CHECK(block_cache_stats().hits + block_cache_stats().misses == s0.hits + s0.misses);
  set_block_cache_enabled(false);
  { at::Tensor big = at::ones({5 << 20}); CHECK(big.sum().item<double>() == double(5 << 20)); }
  const BlockCacheStats s1 = block_cache_stats();
  CHECK(s1.hits + s1.misses == s0.hits + s0.misses);
  set_block_cache_enabled(true);
}
