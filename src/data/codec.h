#pragma once
// Image codecs: libjpeg-turbo (TurboJPEG API) and libpng, each call wrapped once in jpeg.cpp /
// png_codec.cpp. Decoding always yields 8-bit RGB; whatever had to be converted on the way
// (greyscale, CMYK, 16-bit, palette, alpha) is reported so it can be counted, and whatever
// cannot be decoded throws DecodeError with a short machine-readable reason.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"
#include "data/image.h"

namespace sg::data {

struct DecodeError : FormatError {
  std::string reason;  // "truncated", "corrupt", "not_an_image", "unsupported", "too_large"
  DecodeError(std::string r, const std::string& what) : FormatError(what), reason(std::move(r)) {}
};

struct Decoded {
  Image image;
  std::string conversion;  // "" or e.g. "grayscale", "cmyk", "16bit", "palette", "alpha"
};

// What one decode may cost. A header can claim any size (a 600-byte JPEG can claim
// 65500x65500, 12.9 GB of RGB), so the claimed size is checked against these before any pixel
// buffer is allocated, and a file over either limit is a DecodeError "too_large" (the sharder
// skips it like any bad file). The defaults fit every dataset recipe and any real photograph
// (8192x8192 is exactly max_pixels; a decode then holds at most ~0.5 GB: CMYK 256 MiB + RGB
// 192 MiB) while keeping a rank's memory bounded. datasets/README.md documents them.
struct DecodeLimits {
  int64_t max_pixels = int64_t{1} << 26;        // width x height, 67,108,864
  int64_t max_file_bytes = int64_t{256} << 20;  // encoded size, 256 MiB
};

// DecodeError "too_large" naming the format, the claimed size and the limit it exceeds, when
// `bytes` of encoded data or a header's width x height are over `limits` (the codecs call it
// before allocating anything for pixels).
void check_decode_limits(const char* format, int64_t bytes, int64_t width, int64_t height,
                         const DecodeLimits& limits);

// Sniffs the signature (not the file extension) and decodes.
Decoded decode_image(std::string_view bytes, const DecodeLimits& limits = DecodeLimits{});

Decoded decode_jpeg(std::string_view bytes, const DecodeLimits& limits = DecodeLimits{});
Decoded decode_png(std::string_view bytes, const DecodeLimits& limits = DecodeLimits{});

// Encoders, for exported samples, previews, test fixtures and the benchmark.
std::string encode_jpeg(const Image& img, int quality);
// The same, but the JPEG is stored in another colour space: "gray" or "cmyk" (test fixtures).
std::string encode_jpeg_as(const Image& img, int quality, const std::string& colorspace);
// channels 1 (grey of the red channel), 3 (RGB) or 4 (RGBA, alpha 255); bit_depth 8 or 16;
// palette=true writes an indexed PNG (the image must have <= 256 colours).
std::string encode_png(const Image& img, int channels = 3, int bit_depth = 8, bool palette = false,
                       const uint8_t* alpha = nullptr);

}  // namespace sg::data
