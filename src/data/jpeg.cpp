// libjpeg-turbo through its TurboJPEG API: every tj* call of the project is in this file.
#include <turbojpeg.h>

#include <cstring>
#include <memory>

#include "data/codec.h"

namespace sg::data {
namespace {

// A JPEG that stops before its end-of-image marker was cut short (an interrupted download or
// copy), whatever libjpeg's complaint about it.
bool lacks_eoi(std::string_view b) {
  size_t n = b.size();
  while (n > 0 && (b[n - 1] == '\0' || b[n - 1] == '\n' || b[n - 1] == '\r')) --n;  // padding after EOI
  return n < 2 || static_cast<unsigned char>(b[n - 2]) != 0xFF || static_cast<unsigned char>(b[n - 1]) != 0xD9;
}

struct TjHandle {
  tjhandle h;
  explicit TjHandle(bool compress) : h(compress ? tjInitCompress() : tjInitDecompress()) {
    if (!h) throw FormatError(std::string("cannot initialise libjpeg-turbo: ") + tjGetErrorStr2(nullptr));
  }
  ~TjHandle() { tjDestroy(h); }
  std::string error() const { return tjGetErrorStr2(h); }
};

}  // namespace

Decoded decode_jpeg(std::string_view bytes, const DecodeLimits& limits) {
  TjHandle tj(false);
  int w = 0, h = 0, subsamp = 0, cs = 0;
  auto* src = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto size = static_cast<unsigned long>(bytes.size());
  if (tjDecompressHeader3(tj.h, src, size, &w, &h, &subsamp, &cs) != 0) {
    const std::string msg = tj.error();
    throw DecodeError(lacks_eoi(bytes) ? "truncated" : "corrupt", "JPEG header: " + msg);
  }
  if (w <= 0 || h <= 0) throw DecodeError("corrupt", "JPEG header gives an empty image");
  // The header is all a crafted file needs to ask for gigabytes: check before the buffer.
  check_decode_limits("JPEG", static_cast<int64_t>(bytes.size()), w, h, limits);
  Decoded d;
  const bool cmyk = cs == TJCS_CMYK || cs == TJCS_YCCK;
  const int pf = cmyk ? TJPF_CMYK : TJPF_RGB;
  // RGB decodes straight into the image; only CMYK needs a buffer of its own. A second
  // image-sized buffer per decode (zeroed, then thrown away) made glibc grow and trim its heap
  // around every image: page faults and memset took as long as the decoding itself.
  std::vector<uint8_t> cmyk_buf;
  if (cmyk) cmyk_buf.resize(static_cast<size_t>(w) * h * tjPixelSize[pf]);
  else d.image = Image::uninitialized(w, h);
  uint8_t* out = cmyk ? cmyk_buf.data() : d.image.rgb.data();
  // TJFLAG_ACCURATEDCT (libjpeg's islow IDCT, PIL's default) and fancy upsampling: the pixels
  // PIL gives the reference. The benchmark's pure decode goes through this same function.
  if (tjDecompress2(tj.h, src, size, out, w, 0, h, pf, TJFLAG_ACCURATEDCT) != 0) {
    const std::string msg = tj.error();
    const bool warning = tjGetErrorCode(tj.h) == TJERR_WARNING;
    // A truncated file decodes to a grey-filled bottom with the warning "Premature end of JPEG
    // file": never let such an image into a dataset. Other warnings (extraneous bytes before a
    // marker, common in scraped datasets) leave a complete image and are accepted.
    if (msg.find("Premature end") != std::string::npos || (!warning && lacks_eoi(bytes)))
      throw DecodeError("truncated", "JPEG: " + msg);
    if (!warning) throw DecodeError("corrupt", "JPEG: " + msg);
  }
  if (cmyk) {
    // libjpeg hands out CMYK as stored, which for Adobe files (the ones that exist in practice)
    // is inverted: R = C'K'/255.
    d.image = Image(w, h);
    for (size_t i = 0, n = static_cast<size_t>(w) * h; i < n; ++i) {
      const uint8_t* p = &cmyk_buf[i * 4];
      for (int c = 0; c < 3; ++c) d.image.rgb[i * 3 + c] = static_cast<uint8_t>((p[c] * p[3] + 127) / 255);
    }
    d.conversion = "cmyk";
  } else if (cs == TJCS_GRAY) {
    d.conversion = "grayscale";
  }
  return d;
}

std::string encode_jpeg_as(const Image& img, int quality, const std::string& colorspace) {
  TjHandle tj(true);
  unsigned char* out = nullptr;
  unsigned long out_size = 0;
  std::vector<uint8_t> src;
  int pf = TJPF_RGB, samp = TJSAMP_420;
  const uint8_t* data = img.rgb.data();
  if (colorspace == "gray") {
    pf = TJPF_GRAY;
    samp = TJSAMP_GRAY;
    src.resize(static_cast<size_t>(img.width) * img.height);
    for (size_t i = 0; i < src.size(); ++i) src[i] = img.rgb[i * 3];
    data = src.data();
  } else if (colorspace == "cmyk") {
    pf = TJPF_CMYK;
    samp = TJSAMP_444;
    src.resize(static_cast<size_t>(img.width) * img.height * 4);
    for (size_t i = 0, n = static_cast<size_t>(img.width) * img.height; i < n; ++i) {
      for (int c = 0; c < 3; ++c) src[i * 4 + c] = img.rgb[i * 3 + c];
      src[i * 4 + 3] = 255;  // inverted K: no black
    }
    data = src.data();
  } else if (colorspace != "rgb") {
    throw FormatError("encode_jpeg: unknown colour space '" + colorspace + "' (rgb, gray, cmyk)");
  }
  if (tjCompress2(tj.h, data, img.width, 0, img.height, pf, &out, &out_size, samp, quality,
                  TJFLAG_ACCURATEDCT) != 0) {
    const std::string msg = tj.error();
    tjFree(out);
    throw FormatError("JPEG encode: " + msg);
  }
  std::string s(reinterpret_cast<char*>(out), out_size);
  tjFree(out);
  return s;
}

std::string encode_jpeg(const Image& img, int quality) { return encode_jpeg_as(img, quality, "rgb"); }

void check_decode_limits(const char* format, int64_t bytes, int64_t width, int64_t height,
                         const DecodeLimits& limits) {
  if (bytes > limits.max_file_bytes)
    throw DecodeError("too_large", std::string(format) + " file of " + std::to_string(bytes) +
                                       " bytes is over the limit of " + std::to_string(limits.max_file_bytes) +
                                       " bytes (max_image_bytes)");
  if (width * height > limits.max_pixels)  // each side at most 2^31 (PNG's maximum): fits int64
    throw DecodeError("too_large", std::string(format) + " header claims " + std::to_string(width) + "x" +
                                       std::to_string(height) + " = " + std::to_string(width * height) +
                                       " pixels, over the limit of " + std::to_string(limits.max_pixels) +
                                       " (max_image_pixels)");
}

Decoded decode_image(std::string_view bytes, const DecodeLimits& limits) {
  auto starts = [&](const char* sig, size_t n) {
    return bytes.size() >= n && std::memcmp(bytes.data(), sig, n) == 0;
  };
  if (bytes.empty()) throw DecodeError("not_an_image", "empty file");
  if (starts("\xFF\xD8\xFF", 3)) return decode_jpeg(bytes, limits);
  if (starts("\x89PNG\r\n\x1a\n", 8)) return decode_png(bytes, limits);
  if (starts("GIF8", 4) || starts("BM", 2) || starts("RIFF", 4))
    throw DecodeError("unsupported", "GIF/BMP/WebP image: only JPEG and PNG are read");
  throw DecodeError("not_an_image", "no JPEG or PNG signature");
}

}  // namespace sg::data
