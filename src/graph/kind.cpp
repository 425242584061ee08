#include "graph/kind.h"

#include "core/error.h"
#include "core/text.h"

namespace sg::graph {

static std::map<std::string, KindSpec>& registry() {
  static std::map<std::string, KindSpec> r;
  return r;
}

void register_kind(KindSpec kind) {
  const std::string name = kind.name;
  registry()[name] = std::move(kind);
}

const KindSpec& find_kind(const std::string& name) {
  auto it = registry().find(name);
  if (it == registry().end()) throw ConfigError(unknown_name_message("stage kind", name, kind_names()));
  return it->second;
}

std::vector<std::string> kind_names() {
  std::vector<std::string> names;
  for (const auto& [n, k] : registry()) names.push_back(n);
  return names;
}

}  // namespace sg::graph
