#pragma once
// Where training takes its light prior (spec §2.4) from: a file named by the user (the
// reference's {mean, cov} .pth, or our TOML), else the curriculum's mvn_path, else — for the
// built-in Synthetic set — the light_prior.pth the synth stage wrote beside the generated data.
#include <string>

#include "config/curriculum.h"
#include "model/shading.h"

namespace sg::train {

// Reads {mean (4), cov (4, 4)} from a torch.save'd dict (.pth) or a TOML file.
model::LightPrior read_light_prior(const std::string& path);

// `explicit_path` when given; else globals.mvn_path; else <synth_dir>/light_prior.pth. A
// ConfigError saying what to pass when none applies. `chosen` receives the file used.
model::LightPrior find_light_prior(const config::Globals& g, const std::string& explicit_path,
                                   const std::string& synth_dir, std::string* chosen);

}  // namespace sg::train
