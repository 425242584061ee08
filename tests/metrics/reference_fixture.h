#pragma once
// Readers for tests/fixtures/metrics: the torch-fidelity reference values (fid_reference.json,
// copied from ../shared/fixtures/metrics) and the subset rows / permutations it drew
// (reference_indices.json, extracted by tests/fixtures/metrics/extract_reference.py).
#include <nlohmann/json.hpp>

#include <fstream>
#include <stdexcept>
#include <string>

namespace sg::metrics::fixture {

inline nlohmann::json load_json(const std::string& name) {
  const std::string path = std::string(SG_SOURCE_DIR) + "/tests/fixtures/metrics/" + name;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open fixture " + path);
  return nlohmann::json::parse(in);
}

inline const nlohmann::json& reference() {
  static const nlohmann::json j = load_json("fid_reference.json");
  return j;
}

inline const nlohmann::json& indices() {
  static const nlohmann::json j = load_json("reference_indices.json");
  return j;
}

inline double relative_error(double got, double want) {
  return std::abs(got - want) / std::max(std::abs(want), 1e-300);
}

}  // namespace sg::metrics::fixture
