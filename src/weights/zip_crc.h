#pragma once
// The central directory of a zip archive, read without LibTorch: the CRC-32 of each record
// (LibTorch 1.13's PyTorchStreamReader, and so Python's torch.load, never verifies them, so a bit
// flipped in a copied checkpoint would load as silently wrong weights) and the sizes each record
// claims (which that reader allocates before reading a byte).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sg::weights {

struct ZipEntry {
  std::string name;        // full path inside the zip
  uint32_t crc = 0;
  uint16_t method = 0;     // 0 stored, 8 deflate
  uint64_t compressed = 0;
  uint64_t uncompressed = 0;
};

// The central directory's entries in order (zip64 sizes resolved), found as miniz finds it: the
// last end-of-directory record in the final 64 KiB + 22 bytes. nullopt when it cannot be parsed.
std::optional<std::vector<ZipEntry>> zip_entries(std::string_view zip);

// Record name -> CRC-32 from the central directory. Empty when the directory cannot be parsed.
std::map<std::string, uint32_t> zip_crcs(std::string_view zip);

uint32_t crc32(const void* data, size_t n);

}  // namespace sg::weights
