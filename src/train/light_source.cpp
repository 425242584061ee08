#include "train/light_source.h"

#include <torch/csrc/jit/serialization/pickle.h>

#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/light_prior.h"

namespace fs = std::filesystem;

namespace sg::train {

model::LightPrior read_light_prior(const std::string& path) {
  if (!fs::exists(path)) throw IoError(path + ": light prior file not found");
  if (fs::path(path).extension() == ".toml") {
    const data::LightPrior p = data::read_light_prior_toml(path);
    at::Tensor mean = at::empty({4}, at::kDouble), cov = at::empty({4, 4}, at::kDouble);
    for (int i = 0; i < 4; ++i) mean[i] = p.mean[i];
    for (int i = 0; i < 16; ++i) cov[i / 4][i % 4] = p.cov[i];
    return model::make_light_prior(mean, cov, path);
  }
  const std::string bytes = read_file(path);
  c10::IValue v;
  try {
    v = torch::jit::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  } catch (const c10::Error& e) {
    throw FormatError(path + ": not a torch.save'd dict {mean, cov} (" + e.what_without_backtrace() + ")");
  }
  if (!v.isGenericDict()) throw FormatError(path + ": expected a dict with 'mean' and 'cov'");
  const auto d = v.toGenericDict();
  if (!d.contains("mean") || !d.contains("cov"))
    throw FormatError(path + ": expected a dict with 'mean' (4) and 'cov' (4, 4)");
  return model::make_light_prior(d.at("mean").toTensor(), d.at("cov").toTensor(), path);
}

model::LightPrior find_light_prior(const config::Globals& g, const std::string& explicit_path,
                                   const std::string& synth_dir, std::string* chosen) {
  std::string path = explicit_path;
  if (path.empty()) path = g.mvn_path;
  if (path.empty() && !synth_dir.empty()) path = (fs::path(synth_dir) / "light_prior.pth").string();
  if (path.empty())
    throw ConfigError("no light prior: pass light_prior (a {mean, cov} .pth or .toml), set the "
                      "curriculum's mvn_path, or run after a synth stage (its light_prior.pth)");
  if (chosen) *chosen = path;
  return read_light_prior(path);
}

}  // namespace sg::train
