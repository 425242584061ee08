#pragma once
// A stage's fingerprint: the identity of what it computes. XXH3-128 of the kind's name, the
// kind's own semantic version, the canonical JSON of its resolved parameters (defaults filled,
// keys sorted) and the fingerprints of its inputs by dependency name. Not in it: the stage's
// name (identical stages of a sweep share results), its rank count (results must not depend on
// it), the git commit or the binary (a rebuild never reruns finished work).
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace sg::graph {

std::string fingerprint(const std::string& kind, int kind_version, const nlohmann::json& params,
                        const std::map<std::string, std::string>& input_fingerprints);

// The canonical text of resolved parameters that goes into the fingerprint.
std::string canonical_json(const nlohmann::json& params);

}  // namespace sg::graph
