#include "core/hash.h"

#include <xxhash.h>
// libxxhash's runtime dispatch: the same hash values, computed with AVX2 where the CPU has it
// (the library's plain entry points are SSE2, which halves the speed of hashing shards).
#if defined(__x86_64__) && __has_include(<xxh_x86dispatch.h>)
#include <xxh_x86dispatch.h>
#endif

#include <cstdio>
#include <fstream>
#include <vector>

#include "core/error.h"

namespace sg {

static XXH3_state_t* st(void* p) { return static_cast<XXH3_state_t*>(p); }

Hasher::Hasher() : state_(XXH3_createState()) {
  if (!state_ || XXH3_128bits_reset(st(state_)) == XXH_ERROR)
    throw std::runtime_error("xxhash: cannot initialise state");
}

Hasher::~Hasher() { XXH3_freeState(st(state_)); }

Hasher& Hasher::update(const void* data, size_t size) {
  if (XXH3_128bits_update(st(state_), data, size) == XXH_ERROR)
    throw std::runtime_error("xxhash: update failed");
  return *this;
}

Hasher& Hasher::field(std::string_view s) {
  const unsigned long long n = s.size();
  update(&n, sizeof n);
  return update(s);
}

std::string Hasher::hex() const {
  const XXH128_hash_t h = XXH3_128bits_digest(st(state_));
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return buf;
}

std::string hash_bytes(std::string_view data) { return Hasher().update(data).hex(); }

std::string hash_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_errno("cannot read", path);
  Hasher h;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.update(buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) throw_errno("cannot read", path);
  return h.hex();
}

}  // namespace sg
