#pragma once
// ASCII text drawn into an Image, for the labels of the PNGs the pipeline writes (loss curve,
// sample grid). The font is a fixed 5x7 bitmap (descenders two rows lower) embedded as data,
// not FreeType and a font file: a cluster node needs no font installed at run time, and the
// same text gives the same pixels on every machine, so the PNGs are byte-identical across
// machines. No antialiasing, no kerning: every character advances kAdvance pixels times the
// integer scale, which is what lets callers right-align and centre with text_width.
#include <cstdint>
#include <string_view>

#include "data/image.h"

namespace sg::data {

// The glyph cell at scale 1. Capitals and digits fill rows 0..kCapHeight-1; g, j, p, q, y and
// the comma reach down to row kGlyphHeight-1. Rows are kGlyphWidth bits, the leftmost column in
// bit kGlyphWidth-1.
inline constexpr int kGlyphWidth = 5, kGlyphHeight = 9, kCapHeight = 7;
inline constexpr int kAdvance = kGlyphWidth + 1;     // one column of space after each glyph
inline constexpr int kLineHeight = kGlyphHeight + 1;

// The kGlyphHeight rows of `c`'s glyph. Characters outside ASCII 32..126 (and control
// characters such as '\n': text is one line; each byte of a UTF-8 sequence) get a hollow box,
// so a missing glyph is seen.
const uint8_t* glyph_rows(unsigned char c);

// Pixels `s` advances at `scale`: s.size() * kAdvance * scale (a scale below 1 counts as 1,
// here and in draw_text). This includes the blank column after the last glyph, so
// right-aligned text ends `scale` pixels short of its anchor.
int text_width(std::string_view s, int scale = 1);
// Pixels from the left edge of the first glyph cell to the last inked column: text_width without
// the trailing blank column (0 for ""). What right-aligning and centring need.
int ink_width(std::string_view s, int scale = 1);

// Draws `s` with its top-left corner at (x, y) (the top of the capitals) in colour `rgb`; each
// font pixel becomes a scale x scale block. Only set pixels are written, so the background
// shows through; whatever falls outside the image is clipped.
void draw_text(Image& img, int x, int y, std::string_view s, const uint8_t rgb[3], int scale = 1);

}  // namespace sg::data
