// Maps become images with render.py's rules: clamp, x * 255 + 0.5 truncated; depth min-max
// normalised; normals n/2 + 0.5; single-channel maps as grey RGB; the contact sheet's layout.
#include "render/maps.h"
#include <doctest/doctest.h>

using namespace sg::render;

TEST_CASE("quantisation and map conventions") {
  at::Tensor t = at::tensor({0.0f, 0.5f, 1.0f, 2.0f, -1.0f, 0.2f}).reshape({2, 3});
  const auto img = to_image(t);
  REQUIRE(img.width == 3);
  REQUIRE(img.height == 2);
  CHECK(int(img.px(1, 0)[0]) == 128);  // 0.5 * 255 + 0.5 = 128.0
  CHECK(int(img.px(2, 0)[1]) == 255);
  CHECK(int(img.px(0, 1)[2]) == 255);  // clamped
  CHECK(int(img.px(1, 1)[0]) == 0);
  CHECK(int(img.px(2, 1)[0]) == 51);   // 0.2 * 255 + 0.5 = 51.5 -> 51

  at::Tensor depth = at::tensor({0.9f, 1.0f, 1.1f, 0.95f}).reshape({2, 2});
  const auto d = depth_image(depth);
  CHECK(int(d.px(0, 0)[0]) == 0);
  CHECK(int(d.px(0, 1)[0]) == 255);
  CHECK(int(d.px(1, 0)[0]) == 128);

  at::Tensor n = at::zeros({3, 1, 1});
  n[2][0][0] = 1;
  const auto ni = normal_image(n);
  CHECK(int(ni.px(0, 0)[0]) == 128);
  CHECK(int(ni.px(0, 0)[2]) == 255);

  at::Tensor light = at::tensor({0.17f, 0.42f, 0.0f, 0.3f});
  at::Tensor shading = at::full({1, 1}, 0.585f + 0.71f * 0.4f);  // diffuse 0.4: 102.5 -> 102
  CHECK(int(diffuse_image(shading, light).px(0, 0)[0]) == 102);
  CHECK(int(shading_image(shading).px(0, 0)[0]) == 255);
}

TEST_CASE("contact sheet layout") {
  sg::data::Image a(4, 3), b(4, 3);
  std::fill(a.rgb.begin(), a.rgb.end(), 10);
  std::fill(b.rgb.begin(), b.rgb.end(), 20);
  const auto sheet = contact_sheet({{a, b}, {b}}, 2);
  CHECK(sheet.width == 2 * (4 + 2) + 2);
  CHECK(sheet.height == 2 * (3 + 2) + 2);
  CHECK(int(sheet.px(2, 2)[0]) == 10);
  CHECK(int(sheet.px(8, 2)[0]) == 20);
  CHECK(int(sheet.px(2, 7)[0]) == 20);
  CHECK(int(sheet.px(8, 7)[0]) == 255);  // a short row leaves background
  CHECK(int(sheet.px(0, 0)[0]) == 255);
}
