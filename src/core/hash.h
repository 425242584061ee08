#pragma once
// Content hashes: XXH3-128 (libxxhash). Chosen over SHA-256 because fingerprints and output
// checks hash gigabytes of shards and checkpoints, and XXH3 runs at memory speed; nothing here
// needs a cryptographic hash (the threat is stale work, not an adversary).
#include <cstddef>
#include <string>
#include <string_view>

namespace sg {

class Hasher {
 public:
  Hasher();
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  Hasher& update(const void* data, size_t size);
  Hasher& update(std::string_view s) { return update(s.data(), s.size()); }
  // Length-prefixed, so ("ab","c") and ("a","bc") differ.
  Hasher& field(std::string_view s);
  std::string hex() const;  // 32 lowercase hex digits

 private:
  void* state_;
};

std::string hash_bytes(std::string_view data);
std::string hash_file(const std::string& path);  // IoError naming the path

}  // namespace sg
