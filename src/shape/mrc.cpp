#include "shape/mrc.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/atomic_file.h"
#include "core/error.h"

namespace sg::shape {

void write_mrc(const std::string& path, const std::vector<float>& values, int64_t n0, int64_t n1,
               int64_t n2, double voxel_size, const std::array<double, 3>& origin) {
  if (static_cast<int64_t>(values.size()) != n0 * n1 * n2) throw StageError(path + ": grid size mismatch");
  // MRC2014 header: 256 4-byte words (1024 bytes), little-endian.
  std::vector<char> h(1024, 0);
  auto i32 = [&](int word, int32_t v) { std::memcpy(h.data() + 4 * word, &v, 4); };
  auto f32 = [&](int word, float v) { std::memcpy(h.data() + 4 * word, &v, 4); };
  i32(0, int32_t(n2));  // nx: fastest
  i32(1, int32_t(n1));
  i32(2, int32_t(n0));  // nz: sections
  i32(3, 2);            // mode 2: float32
  i32(7, int32_t(n2));  // mx, my, mz: sampling = the grid
  i32(8, int32_t(n1));
  i32(9, int32_t(n0));
  f32(10, float(voxel_size * n2));  // cell dimensions (world units)
  f32(11, float(voxel_size * n1));
  f32(12, float(voxel_size * n0));
  f32(13, 90.f);
  f32(14, 90.f);
  f32(15, 90.f);
  i32(16, 1);  // mapc, mapr, maps: columns x, rows y, sections z
  i32(17, 2);
  i32(18, 3);
  float lo = 0, hi = 0;
  double sum = 0, sq = 0;
  if (!values.empty()) {
    lo = hi = values[0];
    for (float v : values) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      sum += v;
    }
  }
  const double mean = values.empty() ? 0 : sum / double(values.size());
  for (float v : values) sq += (v - mean) * (v - mean);
  f32(19, lo);
  f32(20, hi);
  f32(21, float(mean));
  // origin (words 49-51) in world units, for the x (fastest), y, z axes of the file.
  f32(49, float(origin[2]));
  f32(50, float(origin[1]));
  f32(51, float(origin[0]));
  std::memcpy(h.data() + 4 * 52, "MAP ", 4);
  const unsigned char stamp[4] = {0x44, 0x44, 0, 0};  // little-endian machine stamp
  std::memcpy(h.data() + 4 * 53, stamp, 4);
  f32(54, float(values.empty() ? 0 : std::sqrt(sq / double(values.size()))));
  i32(55, 1);  // one label
  const char label[] = "shadegan extract: raw density (sigma), clamped at 0";
  std::memcpy(h.data() + 4 * 56, label, sizeof(label) - 1);
  i32(22, 1);      // ispg 1: a single volume (0 would mean an image stack)
  i32(27, 20140);  // nversion: MRC2014

  std::string out(h.begin(), h.end());
  out.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  write_file_atomic(path, out);
}

}  // namespace sg::shape
