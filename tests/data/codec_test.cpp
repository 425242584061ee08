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
