#pragma once
// Animated GIFs through giflib (EGif*/DGif*, each call wrapped and checked here). Frames are
// quantised to a fixed 6x7x6 colour cube (252 colours: 6 levels of red and blue, 7 of green, the
// channel the eye resolves best) with ordered (4x4 Bayer) dithering, so every frame shares one
// global palette and a sweep does not flicker between per-frame palettes.
#include <string>
#include <vector>

#include "data/image.h"

namespace sg::render {

// All frames the same size; delay in hundredths of a second; loop forever (NETSCAPE2.0).
std::string encode_gif(const std::vector<data::Image>& frames, int delay_cs);
// Every frame as RGB (tests, and to check what was written). FormatError naming `source`.
std::vector<data::Image> decode_gif(const std::string& bytes, const std::string& source);

}  // namespace sg::render
