#include "weights/zip_crc.h"

#include <array>
#include <utility>

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

namespace {

constexpr uint32_t kZip64Marker = 0xFFFFFFFFu;

// A central header's 32-bit size fields set to 0xFFFFFFFF are in its zip64 extra field (id 1),
// 8 bytes each, uncompressed first, and only those that overflowed. False if it is missing.
bool zip64_sizes(std::string_view extra, ZipEntry& e) {
  for (size_t at = 0; at + 4 <= extra.size();) {
    const uint64_t id = le(extra, at, 2), len = le(extra, at + 2, 2);
    if (at + 4 + len > extra.size()) return false;
    if (id == 1) {
      size_t field = at + 4;
      for (uint64_t* size : {&e.uncompressed, &e.compressed}) {
        if (*size != kZip64Marker) continue;
        if (field + 8 > at + 4 + len) return false;
        *size = le(extra, field, 8);
        field += 8;
      }
      return true;
    }
    at += 4 + len;
  }
  return false;
}

}  // namespace

std::optional<std::vector<ZipEntry>> zip_entries(std::string_view z) {
  // End of central directory: 22 bytes plus a comment of up to 65535, searched from the back.
  if (z.size() < 22) return std::nullopt;
  size_t eocd = std::string_view::npos;
  const size_t lowest = z.size() > 22 + 65535 ? z.size() - 22 - 65535 : 0;
  for (size_t at = z.size() - 22 + 1; at-- > lowest;)
    if (z.compare(at, 4, "PK\x05\x06") == 0) {
      eocd = at;
      break;
    }
  if (eocd == std::string_view::npos) return std::nullopt;
  uint64_t entries = le(z, eocd + 10, 2);
  uint64_t offset = le(z, eocd + 16, 4);
  // Zip64: a locator just before points at the zip64 end record with the 64-bit values.
  if (eocd >= 20 && z.compare(eocd - 20, 4, "PK\x06\x07") == 0) {
    const uint64_t rec = le(z, eocd - 20 + 8, 8);
    if (z.size() >= 56 && rec <= z.size() - 56 && z.compare(rec, 4, "PK\x06\x06") == 0) {
      entries = le(z, rec + 32, 8);
      offset = le(z, rec + 48, 8);
    }
  }
  std::vector<ZipEntry> out;
  uint64_t at = offset;
  for (uint64_t k = 0; k < entries; ++k) {
    if (at > z.size() || z.size() - at < 46 || z.compare(at, 4, "PK\x01\x02") != 0) return std::nullopt;
    const uint64_t name_len = le(z, at + 28, 2), extra = le(z, at + 30, 2), comment = le(z, at + 32, 2);
    if (z.size() - at - 46 < name_len + extra) return std::nullopt;
    ZipEntry e;
    e.name = std::string(z.substr(at + 46, name_len));
    e.method = static_cast<uint16_t>(le(z, at + 10, 2));
    e.crc = static_cast<uint32_t>(le(z, at + 16, 4));
    e.compressed = le(z, at + 20, 4);
    e.uncompressed = le(z, at + 24, 4);
    if ((e.compressed == kZip64Marker || e.uncompressed == kZip64Marker) &&
        !zip64_sizes(z.substr(at + 46 + name_len, extra), e))
      return std::nullopt;
    out.push_back(std::move(e));
    at += 46 + name_len + extra + comment;
  }
  return out;
}

std::map<std::string, uint32_t> zip_crcs(std::string_view z) {
  std::map<std::string, uint32_t> out;
  if (const auto entries = zip_entries(z))
    for (const auto& e : *entries) out[e.name] = e.crc;
  return out;
}

}  // namespace sg::weights
