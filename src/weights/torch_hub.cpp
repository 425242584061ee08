#include "weights/torch_hub.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace sg::weights {

namespace fs = std::filesystem;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

std::string torch_hub_checkpoints_dir() {
  fs::path home = env("TORCH_HOME");
  if (home.empty()) {
    fs::path cache = env("XDG_CACHE_HOME");
    if (cache.empty()) cache = fs::path(env("HOME")) / ".cache";
    home = cache / "torch";
  }
  return (home / "hub" / "checkpoints").string();
}

std::string find_in_torch_hub(const std::vector<std::string>& names, std::vector<std::string>* tried) {
  const fs::path dir = torch_hub_checkpoints_dir();
  for (const std::string& n : names) {
    const fs::path p = dir / n;
    if (tried) tried->push_back(p.string());
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  return "";
}

}  // namespace sg::weights
