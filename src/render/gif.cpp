#include "render/gif.h"

#include <gif_lib.h>

#include <cstring>

#include "core/error.h"

namespace sg::render {

namespace {

constexpr int kR = 6, kG = 7, kB = 6;

std::string gif_error(int code) {
  const char* s = GifErrorString(code);
  return s ? s : "unknown giflib error " + std::to_string(code);
}

int write_to_string(GifFileType* gif, const GifByteType* data, int n) {
  static_cast<std::string*>(gif->UserData)->append(reinterpret_cast<const char*>(data), size_t(n));
  return n;
}

struct ReadCursor {
  const std::string* bytes;
  size_t pos;
};

int read_from_string(GifFileType* gif, GifByteType* out, int n) {
  auto* c = static_cast<ReadCursor*>(gif->UserData);
  const size_t k = std::min(size_t(n), c->bytes->size() - c->pos);
  std::memcpy(out, c->bytes->data() + c->pos, k);
  c->pos += k;
  return int(k);
}

// One checked wrapper for every giflib call that reports GIF_ERROR.
void check(int rc, GifFileType* gif, const char* call) {
  if (rc == GIF_ERROR) throw FormatError(std::string("giflib ") + call + ": " + gif_error(gif->Error));
}

uint8_t level(int v, int levels, int threshold16) {
  // Ordered dithering: offset by the Bayer threshold (in units of one quantisation step).
  const double step = 255.0 / (levels - 1);
  const double x = v / step + (threshold16 + 0.5) / 16.0 - 0.5;
  int q = int(x + 0.5);
  return uint8_t(q < 0 ? 0 : q >= levels ? levels - 1 : q);
}

}  // namespace

std::string encode_gif(const std::vector<data::Image>& frames, int delay_cs) {
  if (frames.empty()) throw StageError("encode_gif: no frames");
  const int W = frames[0].width, H = frames[0].height;
  for (const auto& f : frames)
    if (f.width != W || f.height != H) throw StageError("encode_gif: frames of different sizes");

  std::vector<GifColorType> colors(256, GifColorType{0, 0, 0});
  for (int r = 0; r < kR; ++r)
    for (int g = 0; g < kG; ++g)
      for (int b = 0; b < kB; ++b)
        colors[(r * kG + g) * kB + b] = {GifByteType(r * 255 / (kR - 1)), GifByteType(g * 255 / (kG - 1)),
                                         GifByteType(b * 255 / (kB - 1))};
  std::string out;
  int err = 0;
  GifFileType* gif = EGifOpen(&out, write_to_string, &err);
  if (!gif) throw FormatError("giflib EGifOpen: " + gif_error(err));
  ColorMapObject* map = GifMakeMapObject(256, colors.data());
  try {
    if (!map) throw FormatError("giflib GifMakeMapObject failed");
    EGifSetGifVersion(gif, true);  // GIF89a: needed for the delay and loop extensions
    check(EGifPutScreenDesc(gif, W, H, 8, 0, map), gif, "EGifPutScreenDesc");
    // Loop forever: the NETSCAPE2.0 application extension, loop count 0.
    check(EGifPutExtensionLeader(gif, APPLICATION_EXT_FUNC_CODE), gif, "EGifPutExtensionLeader");
    check(EGifPutExtensionBlock(gif, 11, "NETSCAPE2.0"), gif, "EGifPutExtensionBlock");
    const unsigned char loop[3] = {1, 0, 0};
    check(EGifPutExtensionBlock(gif, 3, loop), gif, "EGifPutExtensionBlock");
    check(EGifPutExtensionTrailer(gif), gif, "EGifPutExtensionTrailer");
    static const int bayer[16] = {0, 8, 2, 10, 12, 4, 14, 6, 3, 11, 1, 9, 15, 7, 13, 5};
    std::vector<GifPixelType> line(W);
    for (const auto& f : frames) {
      GraphicsControlBlock gcb{};
      gcb.DisposalMode = DISPOSE_DO_NOT;
      gcb.DelayTime = delay_cs;
      gcb.TransparentColor = NO_TRANSPARENT_COLOR;
      GifByteType ext[4];
      EGifGCBToExtension(&gcb, ext);
      check(EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, 4, ext), gif, "EGifPutExtension");
      check(EGifPutImageDesc(gif, 0, 0, W, H, false, nullptr), gif, "EGifPutImageDesc");
      for (int y = 0; y < H; ++y) {
        for (int x = 0; x < W; ++x) {
          const uint8_t* p = f.px(x, y);
          const int t = bayer[(y % 4) * 4 + x % 4];
          line[x] = GifPixelType((level(p[0], kR, t) * kG + level(p[1], kG, t)) * kB + level(p[2], kB, t));
        }
        check(EGifPutLine(gif, line.data(), W), gif, "EGifPutLine");
      }
    }
  } catch (...) {
    GifFreeMapObject(map);
    EGifCloseFile(gif, &err);
    throw;
  }
  GifFreeMapObject(map);
  if (EGifCloseFile(gif, &err) == GIF_ERROR) throw FormatError("giflib EGifCloseFile: " + gif_error(err));
  return out;
}

std::vector<data::Image> decode_gif(const std::string& bytes, const std::string& source) {
  ReadCursor cursor{&bytes, 0};
  int err = 0;
  GifFileType* gif = DGifOpen(&cursor, read_from_string, &err);
  if (!gif) throw FormatError(source + ": giflib DGifOpen: " + gif_error(err));
  std::vector<data::Image> frames;
  if (DGifSlurp(gif) == GIF_ERROR) {
    const int e = gif->Error;
    DGifCloseFile(gif, &err);
    throw FormatError(source + ": giflib DGifSlurp: " + gif_error(e));
  }
  for (int i = 0; i < gif->ImageCount; ++i) {
    const SavedImage& s = gif->SavedImages[i];
    const ColorMapObject* map = s.ImageDesc.ColorMap ? s.ImageDesc.ColorMap : gif->SColorMap;
    if (!map) {
      DGifCloseFile(gif, &err);
      throw FormatError(source + ": frame " + std::to_string(i) + " has no colour map");
    }
    data::Image img(s.ImageDesc.Width, s.ImageDesc.Height);
    for (int p = 0; p < img.width * img.height; ++p) {
      const GifColorType c = map->Colors[s.RasterBits[p] % map->ColorCount];
      img.rgb[3 * p] = c.Red;
      img.rgb[3 * p + 1] = c.Green;
      img.rgb[3 * p + 2] = c.Blue;
    }
    frames.push_back(std::move(img));
  }
  DGifCloseFile(gif, &err);
  return frames;
}

}  // namespace sg::render
