#include "core/hash.h"

#include <doctest/doctest.h>

#include <fstream>

#include "core/atomic_file.h"

TEST_CASE("XXH3-128 of known inputs") {
  // Reference values from xxhsum -H2 (XXH3 128-bit), printed high64 then low64.
  CHECK(sg::hash_bytes("") == "99aa06d3014798d86001c324468d497f");
  CHECK(sg::hash_bytes("abc") == "06b05ab6733a618578af5f94892f3950");
}

TEST_CASE("streaming equals one-shot and field() separates boundaries") {
  sg::Hasher h;
  h.update("ab").update("c");
  CHECK(h.hex() == sg::hash_bytes("abc"));
  sg::Hasher a, b;
  a.field("ab").field("c");
  b.field("a").field("bc");
  CHECK(a.hex() != b.hex());
}

TEST_CASE("hash_file equals hash_bytes of the content") {
  const std::string path = std::string(std::getenv("SG_TEST_TMP") ? std::getenv("SG_TEST_TMP") : "/tmp") +
                           "/core_hash_file.bin";
  std::string content(3 << 20, 'x');
  content[12345] = 'y';
  sg::write_file_atomic(path, content);
  CHECK(sg::hash_file(path) == sg::hash_bytes(content));
  std::remove(path.c_str());
}
