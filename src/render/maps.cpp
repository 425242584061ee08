#include "render/maps.h"

#include <algorithm>

#include "core/error.h"

namespace sg::render {

data::Image to_image(const at::Tensor& t) {
  at::Tensor x = t.detach().to(at::kCPU, at::kFloat);
  if (x.dim() == 2) x = x.unsqueeze(0).expand({3, -1, -1});
  if (x.dim() != 3 || x.size(0) != 3) throw StageError("to_image: expected (3, H, W) or (H, W), got " + c10::str(x.sizes()));
  // clamp, * 255 + 0.5, truncate: torchvision's save_image rule, which render.py uses.
  at::Tensor q = (x.clamp(0, 1) * 255 + 0.5).to(at::kByte).permute({1, 2, 0}).contiguous();
  data::Image img(int(q.size(1)), int(q.size(0)));
  std::memcpy(img.rgb.data(), q.data_ptr<uint8_t>(), img.rgb.size());
  return img;
}

data::Image depth_image(const at::Tensor& depth) {
  at::Tensor d = depth.detach().to(at::kCPU, at::kFloat);
  const float lo = d.min().item<float>(), hi = d.max().item<float>();
  return to_image(hi > lo ? (d - lo) / (hi - lo) : at::zeros_like(d));
}

data::Image normal_image(const at::Tensor& normal) { return to_image(normal.detach() / 2 + 0.5); }

data::Image shading_image(const at::Tensor& shading) {
  at::Tensor s = shading.detach().to(at::kCPU, at::kFloat);
  const float hi = s.max().item<float>();
  return to_image(hi > 0 ? s / hi : s);
}

data::Image diffuse_image(const at::Tensor& shading, const at::Tensor& light) {
  at::Tensor l = light.detach().to(at::kCPU, at::kFloat).reshape({4});
  const double ka = l[0].item<double>() / 2 + 0.5, kd = l[1].item<double>() / 2 + 0.5;
  return to_image((shading.detach().to(at::kCPU, at::kFloat) - ka) / kd);
}

data::Image contact_sheet(const std::vector<std::vector<data::Image>>& rows, int pad, uint8_t background) {
  int tw = 0, th = 0;
  size_t cols = 0;
  for (const auto& r : rows) {
    cols = std::max(cols, r.size());
    for (const auto& t : r) {
      if (tw == 0) tw = t.width, th = t.height;
      if (t.width != tw || t.height != th) throw StageError("contact_sheet: tiles of different sizes");
    }
  }
  if (cols == 0) throw StageError("contact_sheet: no tiles");
  data::Image sheet(int(cols) * (tw + pad) + pad, int(rows.size()) * (th + pad) + pad);
  std::fill(sheet.rgb.begin(), sheet.rgb.end(), background);
  for (size_t r = 0; r < rows.size(); ++r)
    for (size_t c = 0; c < rows[r].size(); ++c)
      for (int y = 0; y < th; ++y)
        std::memcpy(sheet.px(pad + int(c) * (tw + pad), pad + int(r) * (th + pad) + y), rows[r][c].px(0, y),
                    size_t(tw) * 3);
  return sheet;
}

}  // namespace sg::render
