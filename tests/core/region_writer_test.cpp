#include "core/region_writer.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <algorithm>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/hash.h"

// A file of `size` bytes of 'm' (what another writer laid out), regions filled with a pattern
// that differs at every byte position: the file must end up as the expected bytes, with the hash
// hash_file gives, whatever the regions' alignment and sizes (across the 1 MiB stage).
static void check_fill(const std::vector<std::pair<int64_t, int64_t>>& regions, int64_t size) {
  const std::string path = std::string(std::getenv("SG_TEST_TMP") ? std::getenv("SG_TEST_TMP") : "/tmp") +
                           "/core_region_writer.bin";
  std::string expect(static_cast<size_t>(size), 'm');
  sg::write_file_atomic(path, expect);
  bool direct = false;
  std::string hash;
  {
    sg::RegionWriter w(path);
    for (const auto& [offset, n] : regions) {
      w.begin_region(offset);
      std::string bytes(static_cast<size_t>(n), '\0');
      for (int64_t i = 0; i < n; ++i) bytes[static_cast<size_t>(i)] = static_cast<char>((offset + i) * 131 % 251);
      expect.replace(static_cast<size_t>(offset), static_cast<size_t>(n), bytes);
      // in uneven pieces, as rows of different datasets come
      for (int64_t at = 0; at < n;) {
        const int64_t piece = std::min<int64_t>(n - at, 1 + (at * 7919) % 300007);
        w.append(bytes.data() + at, static_cast<size_t>(piece));
        at += piece;
      }
    }
    direct = w.direct();
    hash = w.finish();
  }
  CHECK(sg::read_file(path) == expect);
  CHECK(hash == sg::hash_file(path));
  CHECK(hash == sg::hash_bytes(expect));
  const std::string how = direct ? "direct I/O used" : "direct I/O refused by the file system";
  MESSAGE(how);
  std::remove(path.c_str());
}

TEST_CASE("regions at aligned and unaligned offsets are written exactly and the file hashed as hash_file") {
  SUBCASE("one aligned region with an unaligned tail, metadata after it") { check_fill({{4096, 3 * 4096 + 100}}, 20000); }
  SUBCASE("regions larger than the stage") { check_fill({{8192, (3 << 20) + 4096}, {(3 << 20) + 16384, (1 << 20) + 777}}, (5 << 20)); }
  SUBCASE("unaligned regions go through the page cache") { check_fill({{100, 5000}, {6000, 3}, {9000, 10000}}, 30000); }
  SUBCASE("a region ending the file, and an empty one") { check_fill({{4096, 0}, {4096, 8192 + 5}}, 4096 + 8192 + 5); }
}

TEST_CASE("regions out of order are refused, and a missing file is an IoError naming it") {
  CHECK_THROWS_WITH_AS(sg::RegionWriter("/nonexistent/dir/x.h5"), doctest::Contains("/nonexistent/dir/x.h5"), sg::IoError);
  const std::string path = std::string(std::getenv("SG_TEST_TMP") ? std::getenv("SG_TEST_TMP") : "/tmp") +
                           "/core_region_writer_order.bin";
  sg::write_file_atomic(path, std::string(10000, 'm'));
  sg::RegionWriter w(path);
  w.begin_region(5000);
  w.append("abc", 3);
  CHECK_THROWS_AS(w.begin_region(4000), sg::IoError);
  std::remove(path.c_str());
}
