#include "graph/fingerprint.h"

#include "core/hash.h"

namespace sg::graph {

std::string canonical_json(const nlohmann::json& params) {
  // nlohmann::json keeps object keys sorted and prints numbers in their shortest round-trip
  // form, so equal parameter sets always give equal text.
  return params.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
}

std::string fingerprint(const std::string& kind, int kind_version, const nlohmann::json& params,
                        const std::map<std::string, std::string>& input_fingerprints) {
  Hasher h;
  h.field("shadegan-stage/1");  // the layout of this hash; bump if the fields change
  h.field(kind);
  h.field(std::to_string(kind_version));
  h.field(canonical_json(params));
  h.field(std::to_string(input_fingerprints.size()));
  for (const auto& [name, fp] : input_fingerprints) {
    h.field(name);
    h.field(fp);
  }
  return h.hex();
}

}  // namespace sg::graph
