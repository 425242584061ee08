#include <doctest/doctest.h>

#include <cstdlib>

#include "data/codec.h"

using namespace sg::data;

static Image pattern(int w, int h) {
  Image img(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      img.px(x, y)[0] = static_cast<uint8_t>(x * 4);
      img.px(x, y)[1] = static_cast<uint8_t>(y * 4);
      img.px(x, y)[2] = 128;
    }
  return img;
}

static int max_diff(const Image& a, const Image& b) {
  int m = 0;
  for (size_t i = 0; i < a.rgb.size(); ++i) m = std::max(m, std::abs(a.rgb[i] - b.rgb[i]));
  return m;
}

TEST_CASE("PNG round trips exactly in RGB, 16-bit, palette and grey, alpha composites onto black") {
  const Image img = pattern(40, 30);
  Decoded d = decode_image(encode_png(img));
  CHECK(d.conversion == "");
  CHECK(d.image.rgb == img.rgb);
  d = decode_image(encode_png(img, 3, 16));
  CHECK(d.conversion == "16bit");
  CHECK(d.image.rgb == img.rgb);
  Image few(8, 8);
  for (int i = 0; i < 64; ++i) few.rgb[i * 3] = static_cast<uint8_t>((i % 5) * 50);
  d = decode_image(encode_png(few, 3, 8, true));
  CHECK(d.conversion == "palette");
  CHECK(d.image.rgb == few.rgb);
  d = decode_image(encode_png(img, 1));
  CHECK(d.conversion == "grayscale");
  CHECK(d.image.px(5, 3)[1] == img.px(5, 3)[0]);
  std::vector<uint8_t> alpha(40 * 30, 255);
  alpha[0] = 0;
  alpha[1] = 128;
  d = decode_image(encode_png(img, 4, 8, false, alpha.data()));
  CHECK(d.conversion == "alpha");
  CHECK(d.image.px(0, 0)[2] == 0);
  CHECK(d.image.px(1, 0)[2] == (128 * 128 + 127) / 255);
  CHECK(d.image.px(2, 0)[2] == 128);
}

TEST_CASE("JPEG: RGB close, grey and CMYK files convert to RGB and say so") {
  const Image img = pattern(64, 48);
  Decoded d = decode_image(encode_jpeg(img, 95));
  CHECK(d.conversion == "");
  CHECK(d.image.width == 64);
  CHECK(max_diff(d.image, img) < 24);
  d = decode_image(encode_jpeg_as(img, 95, "gray"));
  CHECK(d.conversion == "grayscale");
  CHECK(std::abs(d.image.px(10, 10)[2] - img.px(10, 10)[0]) < 6);
  d = decode_image(encode_jpeg_as(img, 95, "cmyk"));
  CHECK(d.conversion == "cmyk");
  CHECK(max_diff(d.image, img) < 12);
}

TEST_CASE("bad bytes give the right reason") {
  const std::string jpg = encode_jpeg(pattern(64, 64), 90);
  auto reason = [](const std::string& bytes) {
    try {
      decode_image(bytes);
    } catch (const DecodeError& e) {
      return e.reason;
    }
    return std::string("decoded");
  };
  CHECK(reason(jpg.substr(0, jpg.size() / 2)) == "truncated");
  CHECK(reason("this is a text file, not an image") == "not_an_image");
  CHECK(reason("") == "not_an_image");
  std::string bad = jpg;
  for (size_t i = 200; i < 400 && i < bad.size(); ++i) bad[i] = static_cast<char>(0xFF);
  CHECK(reason(bad) != "decoded");
  const std::string png = encode_png(pattern(64, 64));
  CHECK(reason(png.substr(0, png.size() - 40)) == "truncated");
  std::string badpng = png;
  badpng[40] ^= 0x55;  // inside IHDR/IDAT: a CRC error
  CHECK(reason(badpng) == "corrupt");
  CHECK(reason("GIF89a....") == "unsupported");
}

// `jpg` with the height and width of its SOF0 (baseline frame) header replaced: what a crafted
// or damaged file claims, whatever its real size.
static std::string with_sof0_size(std::string jpg, int w, int h) {
  for (size_t i = 2; i + 8 < jpg.size(); ++i)
    if (static_cast<unsigned char>(jpg[i]) == 0xFF && static_cast<unsigned char>(jpg[i + 1]) == 0xC0) {
      jpg[i + 5] = static_cast<char>(h >> 8);
      jpg[i + 6] = static_cast<char>(h & 0xFF);
      jpg[i + 7] = static_cast<char>(w >> 8);
      jpg[i + 8] = static_cast<char>(w & 0xFF);
      return jpg;
    }
  FAIL("no SOF0 marker in the encoded JPEG");
  return jpg;
}

static std::string decode_reason(const std::string& bytes, const DecodeLimits& limits) {
  try {
    decode_image(bytes, limits);
  } catch (const DecodeError& e) {
    return e.reason;
  }
  return "decoded";
}

TEST_CASE("a JPEG header claiming 65500x65500 is too_large, refused before any pixel buffer") {
  const std::string huge = with_sof0_size(encode_jpeg(pattern(64, 64), 90), 65500, 65500);
  CHECK(decode_reason(huge, DecodeLimits{}) == "too_large");
  try {
    decode_image(huge);
  } catch (const DecodeError& e) {
    CHECK(std::string(e.what()).find("65500x65500") != std::string::npos);
  }
  // A very long, thin image is refused the same way when it exceeds the pixel budget.
  CHECK(decode_reason(with_sof0_size(encode_jpeg(pattern(64, 64), 90), 65500, 2000), DecodeLimits{}) == "too_large");
}

TEST_CASE("decode limits: pixels and bytes, for JPEG and PNG alike, at the limit still decodes") {
  const Image img = pattern(40, 30);
  DecodeLimits at_limit;
  at_limit.max_pixels = 40 * 30;
  DecodeLimits below = at_limit;
  below.max_pixels = 40 * 30 - 1;
  for (const std::string& bytes : {encode_jpeg(img, 90), encode_png(img)}) {
    CHECK(decode_reason(bytes, at_limit) == "decoded");
    CHECK(decode_reason(bytes, below) == "too_large");
    DecodeLimits small_file;
    small_file.max_file_bytes = static_cast<int64_t>(bytes.size()) - 1;
    CHECK(decode_reason(bytes, small_file) == "too_large");
  }
  // The defaults leave room for any real photograph (8192x8192) and say so in their names.
  CHECK(DecodeLimits{}.max_pixels >= int64_t{8192} * 8192);
  CHECK(DecodeLimits{}.max_file_bytes >= int64_t{64} << 20);
}

// CRC-32 as PNG chunks use it (ISO 3309), to forge a header that libpng accepts.
static uint32_t png_crc(const std::string& s) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : s) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

// `png` whose IHDR claims w x h (with a valid CRC, so only the size is wrong).
static std::string with_ihdr_size(std::string png, uint32_t w, uint32_t h) {
  auto put32 = [&](size_t at, uint32_t v) {
    for (int k = 0; k < 4; ++k) png[at + k] = static_cast<char>(v >> (24 - 8 * k));
  };
  put32(16, w);  // signature (8), length (4), "IHDR" (4), then width and height
  put32(20, h);
  put32(29, png_crc(png.substr(12, 17)));  // over "IHDR" and its 13 bytes of data
  return png;
}

TEST_CASE("a PNG header claiming a huge size is too_large, within or beyond libpng's own limit") {
  const std::string png = encode_png(pattern(16, 16));
  CHECK(decode_reason(with_ihdr_size(png, 30000, 30000), DecodeLimits{}) == "too_large");
  CHECK(decode_reason(with_ihdr_size(png, 2000000, 16), DecodeLimits{}) == "too_large");
  CHECK(decode_reason(with_ihdr_size(png, 16, 16), DecodeLimits{}) == "decoded");  // the forgery itself is sound
}
