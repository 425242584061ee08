#include "model/options.h"

#include "core/error.h"
#include "core/text.h"

namespace sg::model {

GeneratorConfig GeneratorConfig::pigan() {
  GeneratorConfig c;
  c.shading = false;
  c.view_condition = true;
  c.light_condition = false;
  c.surf_track = false;
  return c;
}

ClampMode clamp_mode_from_name(const std::string& name) {
  if (name == "relu") return ClampMode::relu;
  if (name == "softplus") return ClampMode::softplus;
  throw ConfigError(unknown_name_message("clamp_mode", name, {"relu", "softplus"}));
}

CameraDist camera_dist_from_name(const std::string& name) {
  if (name == "gaussian" || name == "normal") return CameraDist::gaussian;
  if (name == "uniform") return CameraDist::uniform;
  if (name == "hybrid") return CameraDist::hybrid;
  if (name == "truncated_gaussian") return CameraDist::truncated_gaussian;
  if (name == "spherical_uniform") return CameraDist::spherical_uniform;
  if (name == "fixed" || name == "none") return CameraDist::fixed;
  throw ConfigError(unknown_name_message(
      "sample_dist", name,
      {"gaussian", "normal", "uniform", "hybrid", "truncated_gaussian", "spherical_uniform",
       "fixed", "none"}));
}

}  // namespace sg::model
