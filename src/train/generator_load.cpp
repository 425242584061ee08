#include "train/generator_load.h"

#include <torch/torch.h>

#include <filesystem>

#include "core/error.h"
#include "core/text.h"
#include "train/checkpoint_layout.h"
#include "train/model_setup.h"
#include "weights/ema.h"
#include "weights/state_dict.h"

namespace fs = std::filesystem;

namespace sg::train {

WeightsChoice weights_choice_from_name(const std::string& name) {
  if (name == "ema") return WeightsChoice::ema;
  if (name == "ema2") return WeightsChoice::ema2;
  if (name == "raw") return WeightsChoice::raw;
  throw ConfigError(unknown_name_message("weights", name, {"ema", "ema2", "raw"}));
}

LoadedGenerator load_generator(const std::string& path,
                               const std::optional<config::Curriculum>& curriculum,
                               WeightsChoice which, const std::string& device) {
  LoadedGenerator out;
  std::string gen_file, ema_file, ema2_file;
  if (fs::is_regular_file(path)) {
    if (!curriculum)
      throw ConfigError(path + ": a bare generator.pth needs its curriculum (--curriculum)");
    out.curriculum = *curriculum;
    gen_file = path;
    // The reference's rule (spec §8): the path text before "generator" + "ema.pth".
    const std::string name = fs::path(path).filename().string();
    const auto cut = name.rfind("generator");
    const std::string prefix =
        (fs::path(path).parent_path() / (cut == std::string::npos ? "" : name.substr(0, cut))).string();
    ema_file = prefix + "ema.pth";
    ema2_file = prefix + "ema2.pth";
    out.source = path;
  } else {
    const CheckpointInfo c = resolve_checkpoint(path);
    out.curriculum = curriculum ? *curriculum
                                : config::curriculum_from_source(c.meta.at("curriculum"),
                                                                 c.dir + "/meta.json");
    out.step = c.step;
    gen_file = c.dir + "/generator.pth";
    ema_file = c.dir + "/ema.pth";
    ema2_file = c.dir + "/ema2.pth";
    out.source = c.dir;
  }

  torch::NoGradGuard no_grad;
  out.generator = model::Generator(generator_config(out.curriculum.globals));
  weights::load_into(*out.generator, weights::read_state_dict(gen_file), gen_file, /*strict=*/true);
  out.weights_file = gen_file;
  if (which != WeightsChoice::raw) {
    const std::string f = which == WeightsChoice::ema ? ema_file : ema2_file;
    if (!fs::exists(f))
      throw IoError(f + ": missing (asked for " + (which == WeightsChoice::ema ? "ema" : "ema2") +
                    " weights; use --weights raw for the generator's own parameters)");
    weights::load_ema_into(*out.generator, weights::read_ema(f), f);
    out.weights_file = f;
  }
  out.generator->eval();
  out.generator->to(torch::Device(device));
  return out;
}

}  // namespace sg::train
