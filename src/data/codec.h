#pragma once
// Image codecs: libjpeg-turbo (TurboJPEG API) and libpng, each call wrapped once in jpeg.cpp /
// png_codec.cpp. Decoding always yields 8-bit RGB; whatever had to be converted on the way
// (greyscale, CMYK, 16-bit, palette, alpha) is reported so it can be counted, and whatever
// cannot be decoded throws DecodeError with a short machine-readable reason.
#include <string>
#include <string_view>

#include "core/error.h"
#include "data/image.h"

namespace sg::data {

struct DecodeError : FormatError {
  std::string reason;  // "truncated", "corrupt", "not_an_image", "unsupported"
  DecodeError(std::string r, const std::string& what) : FormatError(what), reason(std::move(r)) {}
};

struct Decoded {
  Image image;
  std::string conversion;  // "" or e.g. "grayscale", "cmyk", "16bit", "palette", "alpha"
};

// Sniffs the signature (not the file extension) and decodes.
Decoded decode_image(std::string_view bytes);

Decoded decode_jpeg(std::string_view bytes);
Decoded decode_png(std::string_view bytes);

// Encoders, for exported samples, previews, test fixtures and the benchmark.
std::string encode_jpeg(const Image& img, int quality);
// The same, but the JPEG is stored in another colour space: "gray" or "cmyk" (test fixtures).
std::string encode_jpeg_as(const Image& img, int quality, const std::string& colorspace);
// channels 1 (grey of the red channel), 3 (RGB) or 4 (RGBA, alpha 255); bit_depth 8 or 16;
// palette=true writes an indexed PNG (the image must have <= 256 colours).
std::string encode_png(const Image& img, int channels = 3, int bit_depth = 8, bool palette = false,
                       const uint8_t* alpha = nullptr);

}  // namespace sg::data
