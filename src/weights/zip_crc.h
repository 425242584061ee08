#pragma once
// CRC-32 checks for the records of a zip archive. LibTorch 1.13's PyTorchStreamReader (and so
// Python's torch.load) never verifies them, so a bit flipped in a copied checkpoint would load as
// silently wrong weights; we compare each record we read against the central directory's CRC.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace sg::weights {

// Record name (full path inside the zip) -> CRC-32 from the central directory. Empty when the
// directory cannot be parsed (the zip reader then reports the damage itself).
std::map<std::string, uint32_t> zip_crcs(std::string_view zip);

uint32_t crc32(const void* data, size_t n);

}  // namespace sg::weights
