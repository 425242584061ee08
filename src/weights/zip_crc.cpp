#include "weights/zip_crc.h"

#include <array>

namespace sg::weights {

namespace {

uint64_t le(std::string_view s, size_t at, int n) {
  uint64_t v = 0;
  for (int k = 0; k < n; ++k) v |= static_cast<uint64_t>(static_cast<uint8_t>(s[at + k])) << (8 * k);
  return v;
}

}  // namespace

uint32_t crc32(const void* data, size_t n) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::map<std::string, uint32_t> zip_crcs(std::string_view z) {
  std::map<std::string, uint32_t> out;
  // End of central directory: 22 bytes plus a comment of up to 65535, searched from the back.
  if (z.size() < 22) return out;
  size_t eocd = std::string_view::npos;
  const size_t lowest = z.size() > 22 + 65535 ? z.size() - 22 - 65535 : 0;
  for (size_t at = z.size() - 22 + 1; at-- > lowest;)
    if (z.compare(at, 4, "PK\x05\x06") == 0) {
      eocd = at;
      break;
    }
  if (eocd == std::string_view::npos) return out;
  uint64_t entries = le(z, eocd + 10, 2);
  uint64_t offset = le(z, eocd + 16, 4);
  // Zip64: a locator just before points at the zip64 end record with the 64-bit values.
  if (eocd >= 20 && z.compare(eocd - 20, 4, "PK\x06\x07") == 0) {
    const uint64_t rec = le(z, eocd - 20 + 8, 8);
    if (rec + 56 <= z.size() && z.compare(rec, 4, "PK\x06\x06") == 0) {
      entries = le(z, rec + 32, 8);
      offset = le(z, rec + 48, 8);
    }
  }
  size_t at = offset;
  for (uint64_t e = 0; e < entries; ++e) {
    if (at + 46 > z.size() || z.compare(at, 4, "PK\x01\x02") != 0) return {};
    const auto crc = static_cast<uint32_t>(le(z, at + 16, 4));
    const size_t name_len = le(z, at + 28, 2), extra = le(z, at + 30, 2), comment = le(z, at + 32, 2);
    if (at + 46 + name_len > z.size()) return {};
    out[std::string(z.substr(at + 46, name_len))] = crc;
    at += 46 + name_len + extra + comment;
  }
  return out;
}

}  // namespace sg::weights
