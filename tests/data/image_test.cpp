#include <doctest/doctest.h>

#include "data/image.h"

using namespace sg::data;

static Image ramp(int w, int h) {
  Image img(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      img.px(x, y)[0] = static_cast<uint8_t>(x);
      img.px(x, y)[1] = static_cast<uint8_t>(y);
      img.px(x, y)[2] = static_cast<uint8_t>((x + y) & 255);
    }
  return img;
}

TEST_CASE("tensor nearest takes floor(dst*in/out): a 2x downscale keeps even pixels") {
  const Image out = resize_nearest_tensor(ramp(256, 256), 128, 128);
  CHECK(out.px(0, 0)[0] == 0);
  CHECK(out.px(1, 0)[0] == 2);
  CHECK(out.px(127, 5)[0] == 254);
  CHECK(out.px(3, 7)[1] == 14);
}

TEST_CASE("PIL nearest takes floor((dst+0.5)*in/out): a 2x downscale keeps odd pixels") {
  const Image out = resize_nearest_pil(ramp(256, 256), 128, 128);
  CHECK(out.px(0, 0)[0] == 1);
  CHECK(out.px(127, 0)[0] == 255);
  CHECK(out.px(0, 3)[1] == 7);
}

TEST_CASE("centre crop offsets are round((dim - size)/2) and flip mirrors columns") {
  const Image c = center_crop(ramp(178, 218), 100);
  CHECK(c.px(0, 0)[0] == 39);  // (178-100)/2
  CHECK(c.px(0, 0)[1] == 59);  // (218-100)/2
  const Image f = hflip(c);
  CHECK(f.px(0, 0)[0] == c.px(99, 0)[0]);
  int w = 0, h = 0;
  shorter_side_dims(178, 218, 320, &w, &h);
  CHECK(w == 320);
  CHECK(h == 391);  // spec §7: 320x391
}

TEST_CASE("PIL bilinear: constant stays constant, upscale of a 2-pixel edge interpolates") {
  Image flat(10, 7);
  for (auto& v : flat.rgb) v = 200;
  const Image up = resize_bilinear_pil(flat, 23, 31);
  for (auto v : up.rgb) CHECK(v == 200);
  Image edge(2, 1);
  edge.px(1, 0)[0] = 255;
  const Image e = resize_bilinear_pil(edge, 4, 1);
  // PIL: centres at 0.25, 0.75, 1.25, 1.75 source px -> weights give 0, 64, 191, 255.
  CHECK(e.px(0, 0)[0] == 0);
  CHECK(e.px(1, 0)[0] == 64);
  CHECK(e.px(2, 0)[0] == 191);
  CHECK(e.px(3, 0)[0] == 255);
}
