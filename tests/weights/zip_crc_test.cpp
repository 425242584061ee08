#include "weights/zip_crc.h"

#include <doctest/doctest.h>

#include "core/atomic_file.h"

using namespace sg::weights;

TEST_CASE("CRC-32 check value and the central directory of the parity fixture") {
  CHECK(crc32("123456789", 9) == 0xCBF43926u);  // the standard check value
  CHECK(crc32("", 0) == 0u);
  const std::string zip = sg::read_file(std::string(SG_SOURCE_DIR) + "/tests/fixtures/parity/gen_celeba_view_seed0.pth");
  const auto crcs = zip_crcs(zip);
  CHECK(crcs.size() == 74 + 2);  // 74 storages, data.pkl, version
  REQUIRE(crcs.count("gen_celeba_view_seed0/data.pkl"));
  REQUIRE(crcs.count("gen_celeba_view_seed0/version"));
  CHECK(crcs.at("gen_celeba_view_seed0/version") == crc32("3\n", 2));
  CHECK(zip_crcs("PK\x05\x06 but nothing else").empty());
}

TEST_CASE("zip entries: the sizes each record claims, from 32-bit fields or the zip64 extra field") {
  // torch.save stores records: every record of the fixture is uncompressed and together they fit.
  const std::string zip = sg::read_file(std::string(SG_SOURCE_DIR) + "/tests/fixtures/parity/gen_celeba_view_seed0.pth");
  const auto entries = zip_entries(zip);
  REQUIRE(entries);
  REQUIRE(entries->size() == 76);
  uint64_t total = 0;
  for (const ZipEntry& e : *entries) {
    CHECK(e.method == 0);
    CHECK(e.compressed == e.uncompressed);
    total += e.uncompressed;
  }
  CHECK(total < zip.size());

  // One central header whose sizes overflowed 32 bits: 0xFFFFFFFF, the real values (uncompressed
  // first) in extra field 1, then an end record pointing at the header.
  auto le = [](uint64_t v, int n) {
    std::string s;
    for (int k = 0; k < n; ++k) s.push_back(static_cast<char>((v >> (8 * k)) & 0xFF));
    return s;
  };
  const std::string name = "a/data/0";
  const std::string extra = le(1, 2) + le(16, 2) + le(uint64_t{5} << 32, 8) + le(uint64_t{3} << 32, 8);
  const std::string header = "PK\x01\x02" + le(45, 2) + le(45, 2) + le(0, 2) + le(8, 2) + le(0, 4) +
                             le(0x12345678, 4) + le(0xFFFFFFFF, 4) + le(0xFFFFFFFF, 4) + le(name.size(), 2) +
                             le(extra.size(), 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4) +
                             name + extra;
  const std::string end = "PK\x05\x06" + le(0, 2) + le(0, 2) + le(1, 2) + le(1, 2) + le(header.size(), 4) +
                          le(0, 4) + le(0, 2);
  const auto big = zip_entries(header + end);
  REQUIRE(big);
  REQUIRE(big->size() == 1);
  CHECK(big->at(0).name == name);
  CHECK(big->at(0).method == 8);
  CHECK(big->at(0).crc == 0x12345678u);
  CHECK(big->at(0).uncompressed == uint64_t{5} << 32);
  CHECK(big->at(0).compressed == uint64_t{3} << 32);
  // Without its extra field the sizes are unknown: the directory is unreadable, not trusted.
  const std::string bare = header.substr(0, 30) + le(0, 2) + header.substr(32, 14) + name;
  CHECK_FALSE(zip_entries(bare + "PK\x05\x06" + le(0, 2) + le(0, 2) + le(1, 2) + le(1, 2) +
                          le(bare.size(), 4) + le(0, 4) + le(0, 2)));
}
