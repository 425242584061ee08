#include "data/synth_export.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/progress.h"
#include "core/signals.h"
#include "data/codec.h"
#include "mpi/mpi.h"
#include "mpi/rounds.h"

namespace sg::data {

std::string synth_preview_png(const SynthParams& p, int n) {
  n = static_cast<int>(std::min<int64_t>(n, p.count));
  const int S = p.size;
  Image sheet(S * n, S * 4);
  auto put = [&](int row, int col, int x, int y, const uint8_t* c) {
    std::copy(c, c + 3, sheet.px(col * S + x, row * S + y));
  };
  for (int k = 0; k < n; ++k) {
    const SynthSample s = render_synth_sample(p, k);
    for (int y = 0; y < S; ++y)
      for (int x = 0; x < S; ++x) {
        const size_t i = static_cast<size_t>(y) * S + x;
        put(0, k, x, y, s.rgb.px(x, y));
        put(1, k, x, y, s.albedo.px(x, y));
        uint8_t nc[3] = {0, 0, 0}, dc[3] = {0, 0, 0};
        if (s.mask[i]) {
          for (int c = 0; c < 3; ++c) nc[c] = static_cast<uint8_t>((s.normal[i * 3 + c] * 0.5f + 0.5f) * 255.0f + 0.5f);
          const double t = (s.depth[i] - p.camera.ray_start) / (p.camera.ray_end - p.camera.ray_start);
          dc[0] = dc[1] = dc[2] = static_cast<uint8_t>(std::clamp(1.0 - t, 0.0, 1.0) * 255.0 + 0.5);
        }
        put(2, k, x, y, nc);
        put(3, k, x, y, dc);
      }
  }
  return encode_png(sheet);
}

void export_synth_images(const SynthParams& p, const std::string& dir, const std::string& format) {
  const int rank = mpi::rank(), size = mpi::size();
  if (format != "png" && format != "jpg")
    throw ConfigError("synth images: format must be \"png\" or \"jpg\", got '" + format + "'");
  create_dirs(dir);
  int64_t mine = 0;
  for (int64_t i = rank; i < p.count; i += size) ++mine;
  Progress progress("synth images (rank " + std::to_string(rank) + ")", mine, "img");
  // A signal that reached one rank stops all within an image, instead of the others exporting
  // the rest of theirs first. Images are written atomically and skipped when present: a stop
  // loses nothing.
  const bool stopped = mpi::for_each_round(p.count, stop_requested, [&](int64_t i) {
    const std::string path = (std::filesystem::path(dir) / fmt::format("{:06d}.{}", i, format)).string();
    if (!std::filesystem::exists(path)) {  // written atomically, so present means complete
      const SynthSample s = render_synth_sample(p, i);
      write_file_atomic(path, format == "png" ? encode_png(s.rgb) : encode_jpeg(s.rgb, 95));
    }
    progress.advance();
  });
  progress.finish();
  // Every rank voted in the same rounds, so all agree here.
  if (stopped)
    throw Error(ExitCode::preempted, "synth images: stopped on signal " + std::to_string(stop_signal()) +
                                         "; rerun to export the rest (written images are kept)");
}

}  // namespace sg::data
