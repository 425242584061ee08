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
