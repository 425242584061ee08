#pragma once
// A generator ready for inference (render, extract, eval), from one of our checkpoints or from
// an official generator.pth named with its curriculum.
#include <cstdint>
#include <optional>
#include <string>

#include "config/curriculum.h"
#include "model/generator.h"

namespace sg::train {

// Which weights: the EMA shadows (the reference's --ema; the default of every reader), the
// slower EMA2, or the raw generator parameters.
enum class WeightsChoice { ema, ema2, raw };
WeightsChoice weights_choice_from_name(const std::string& name);  // "ema" | "ema2" | "raw"

struct LoadedGenerator {
  model::Generator generator{nullptr};
  config::Curriculum curriculum;
  int64_t step = -1;        // the training step of the checkpoint; -1 for an official file
  std::string source;       // what was loaded, for logs and metrics.json
  std::string weights_file; // the file the parameters came from
};

// `path` is a checkpoint, train or run directory (checkpoint_layout.h resolve_checkpoint) or a
// generator.pth file. The curriculum comes from the checkpoint's meta.json unless `curriculum`
// is given; for a bare generator.pth it is required. For a .pth file, ema/ema2 read the
// reference's sibling files (the path text before "generator" + "ema.pth"/"ema2.pth").
// The state dict is always loaded strictly first (buffers included), then the chosen EMA shadows
// are copied over the parameters. Any mismatch between weights and curriculum (latent size,
// width, a missing surface net) is a FormatError naming the file and the offending keys,
// raised before any work starts. The module is in eval mode, on `device`, with grads off.
LoadedGenerator load_generator(const std::string& path,
                               const std::optional<config::Curriculum>& curriculum,
                               WeightsChoice which, const std::string& device = "cpu");

}  // namespace sg::train
