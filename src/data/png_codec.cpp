// libpng: every png_* call of the project is in this file. libpng reports errors by longjmp, so
// the functions that call it keep only trivially destructible locals between setjmp and the
// calls, and turn the jump into a DecodeError/FormatError afterwards.
#include <png.h>

#include <csetjmp>
#include <cstring>

#include "data/codec.h"

namespace sg::data {
namespace {

struct ErrState {
  std::jmp_buf jmp;
  char message[256] = {0};
  char warning[256] = {0};  // the last warning: libpng names the cause of "Invalid IHDR data" in one
};

void on_error(png_structp png, png_const_charp msg) {
  auto* st = static_cast<ErrState*>(png_get_error_ptr(png));
  std::snprintf(st->message, sizeof st->message, "%s", msg);
  std::longjmp(st->jmp, 1);
}
void on_warning(png_structp png, png_const_charp msg) {
  auto* st = static_cast<ErrState*>(png_get_error_ptr(png));
  std::snprintf(st->warning, sizeof st->warning, "%s", msg);
}

struct Reader {
  const unsigned char* data;
  size_t size, pos;
};

void read_fn(png_structp png, png_bytep out, png_size_t n) {
  auto* r = static_cast<Reader*>(png_get_io_ptr(png));
  if (r->pos + n > r->size) png_error(png, "Read Error: file is truncated");
  std::memcpy(out, r->data + r->pos, n);
  r->pos += n;
}

void write_fn(png_structp png, png_bytep data, png_size_t n) {
  static_cast<std::string*>(png_get_io_ptr(png))->append(reinterpret_cast<char*>(data), n);
}
void flush_fn(png_structp) {}

// Decodes into `rgba` (w*h*4, allocated by the caller after the header callback); returns 0 on
// success, 1 on a libpng error (message in st).
struct RawPng {
  png_uint_32 w = 0, h = 0;
  int color_type = 0, bit_depth = 0;
  bool trns = false;
};

int read_header(png_structp png, png_infop info, RawPng* raw, ErrState* st) {
  if (setjmp(st->jmp)) return 1;
  png_read_info(png, info);
  raw->w = png_get_image_width(png, info);
  raw->h = png_get_image_height(png, info);
  raw->color_type = png_get_color_type(png, info);
  raw->bit_depth = png_get_bit_depth(png, info);
  raw->trns = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
  // Normalise everything to 8-bit RGBA: palette -> RGB, low-bit grey -> 8 bit, tRNS -> alpha,
  // 16 bit -> 8 bit (rounded), grey -> RGB, add opaque alpha where there is none.
  if (raw->color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (raw->color_type == PNG_COLOR_TYPE_GRAY && raw->bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (raw->trns) png_set_tRNS_to_alpha(png);
  if (raw->bit_depth == 16) png_set_scale_16(png);
  if (raw->color_type == PNG_COLOR_TYPE_GRAY || raw->color_type == PNG_COLOR_TYPE_GRAY_ALPHA)
    png_set_gray_to_rgb(png);
  png_set_filler(png, 0xFF, PNG_FILLER_AFTER);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  return 0;
}

int read_rows(png_structp png, png_infop info, png_bytep* rows, ErrState* st) {
  if (setjmp(st->jmp)) return 1;
  png_read_image(png, rows);
  png_read_end(png, nullptr);
  return 0;
}

}  // namespace

Decoded decode_png(std::string_view bytes, const DecodeLimits& limits) {
  ErrState st;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &st, on_error, on_warning);
  if (!png) throw FormatError("cannot initialise libpng");
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    throw FormatError("cannot initialise libpng");
  }
  Reader reader{reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), 0};
  png_set_read_fn(png, &reader, read_fn);
  // No side over JPEG's maximum (so libpng's row buffers stay small); the area is checked against
  // max_pixels once the header is read.
  png_set_user_limits(png, 65535, 65535);
  RawPng raw;
  if (read_header(png, info, &raw, &st) != 0) {
    png_destroy_read_struct(&png, &info, nullptr);
    const std::string warning = st.warning;
    const std::string msg = std::string(st.message) + (warning.empty() ? "" : " (" + warning + ")");
    // A side over libpng's user limit is a size we refuse, like one over max_image_pixels.
    const char* reason = warning.find("exceeds user limit") != std::string::npos ? "too_large"
                         : msg.find("truncated") != std::string::npos    ? "truncated"
                                                                         : "corrupt";
    throw DecodeError(reason, "PNG: " + msg);
  }
  // libpng's own limit (65535 a side) still allows 16 GiB of RGBA: check before allocating.
  try {
    check_decode_limits("PNG", static_cast<int64_t>(bytes.size()), raw.w, raw.h, limits);
  } catch (...) {
    png_destroy_read_struct(&png, &info, nullptr);
    throw;
  }
  std::vector<uint8_t> rgba(static_cast<size_t>(raw.w) * raw.h * 4);
  std::vector<png_bytep> rows(raw.h);
  for (png_uint_32 y = 0; y < raw.h; ++y) rows[y] = rgba.data() + static_cast<size_t>(y) * raw.w * 4;
  if (read_rows(png, info, rows.data(), &st) != 0) {
    png_destroy_read_struct(&png, &info, nullptr);
    const std::string msg = st.message;
    throw DecodeError(msg.find("truncated") != std::string::npos ? "truncated" : "corrupt", "PNG: " + msg);
  }
  png_destroy_read_struct(&png, &info, nullptr);

  Decoded d;
  d.image = Image(static_cast<int>(raw.w), static_cast<int>(raw.h));
  const bool alpha = raw.trns || (raw.color_type & PNG_COLOR_MASK_ALPHA);
  for (size_t i = 0, n = static_cast<size_t>(raw.w) * raw.h; i < n; ++i) {
    const uint8_t* p = &rgba[i * 4];
    // Transparent pixels composite onto black (the background a volume renderer gives).
    for (int c = 0; c < 3; ++c)
      d.image.rgb[i * 3 + c] = alpha ? static_cast<uint8_t>((p[c] * p[3] + 127) / 255) : p[c];
  }
  if (raw.color_type == PNG_COLOR_TYPE_PALETTE) d.conversion = "palette";
  else if (raw.bit_depth == 16) d.conversion = "16bit";
  else if (alpha) d.conversion = "alpha";
  else if (!(raw.color_type & PNG_COLOR_MASK_COLOR)) d.conversion = "grayscale";
  if (alpha && d.conversion != "alpha") d.conversion += "+alpha";
  return d;
}

namespace {

int write_all(png_structp png, png_infop info, int w, int h, int bit_depth, int color_type,
              png_colorp palette, int npalette, png_bytep* rows, std::string* out, ErrState* st) {
  if (setjmp(st->jmp)) return 1;
  png_set_write_fn(png, out, write_fn, flush_fn);
  png_set_IHDR(png, info, w, h, bit_depth, color_type, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (palette) png_set_PLTE(png, info, palette, npalette);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  return 0;
}

}  // namespace

std::string encode_png(const Image& img, int channels, int bit_depth, bool palette,
                       const uint8_t* alpha) {
  if (channels != 1 && channels != 3 && channels != 4)
    throw FormatError("encode_png: channels must be 1, 3 or 4");
  if (bit_depth != 8 && bit_depth != 16) throw FormatError("encode_png: bit depth must be 8 or 16");
  const int w = img.width, h = img.height;
  std::vector<png_color> pal;
  std::vector<uint8_t> buf;
  int color_type = channels == 1 ? PNG_COLOR_TYPE_GRAY
                   : channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGB_ALPHA;
  size_t row_bytes = static_cast<size_t>(w) * channels * (bit_depth / 8);
  if (palette) {
    color_type = PNG_COLOR_TYPE_PALETTE;
    bit_depth = 8;
    row_bytes = w;
    buf.resize(static_cast<size_t>(w) * h);
    for (size_t i = 0; i < buf.size(); ++i) {
      const uint8_t* p = &img.rgb[i * 3];
      size_t k = 0;
      while (k < pal.size() && !(pal[k].red == p[0] && pal[k].green == p[1] && pal[k].blue == p[2])) ++k;
      if (k == pal.size()) {
        if (pal.size() == 256) throw FormatError("encode_png: more than 256 colours for a palette");
        pal.push_back(png_color{p[0], p[1], p[2]});
      }
      buf[i] = static_cast<uint8_t>(k);
    }
  } else {
    buf.resize(row_bytes * h);
    for (size_t i = 0, n = static_cast<size_t>(w) * h; i < n; ++i)
      for (int c = 0; c < channels; ++c) {
        const uint8_t v = c == 3 ? (alpha ? alpha[i] : 255) : img.rgb[i * 3 + (channels == 1 ? 0 : c)];
        if (bit_depth == 8) {
          buf[i * channels + c] = v;
        } else {  // big-endian 16-bit, v * 257 so that scaling back gives v exactly
          buf[(i * channels + c) * 2] = v;
          buf[(i * channels + c) * 2 + 1] = v;
        }
      }
  }
  std::vector<png_bytep> rows(h);
  for (int y = 0; y < h; ++y) rows[y] = buf.data() + row_bytes * y;
  ErrState st;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &st, on_error, on_warning);
  if (!png) throw FormatError("cannot initialise libpng");
  png_infop info = png_create_info_struct(png);
  std::string out;
  const int rc = info ? write_all(png, info, w, h, bit_depth, color_type,
                                  pal.empty() ? nullptr : pal.data(), static_cast<int>(pal.size()),
                                  rows.data(), &out, &st)
                      : 1;
  png_destroy_write_struct(&png, &info);
  if (rc != 0) throw FormatError(std::string("PNG encode: ") + st.message);
  return out;
}

}  // namespace sg::data
