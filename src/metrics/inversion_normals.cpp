#include "metrics/inversion_normals.h"

#include <cctype>

#include "core/error.h"

namespace sg::metrics {

InversionNormals inversion_normals_from_name(const std::string& name) {
  InversionNormals n;
  if (name == "trained") return n;
  if (name == "density") {
    n.kind = InversionNormals::Kind::density;
    return n;
  }
  if (name == "depth") {
    n.kind = InversionNormals::Kind::depth;
    return n;
  }
  const std::string prefix = "every:";
  if (name.rfind(prefix, 0) == 0) {
    const std::string digits = name.substr(prefix.size());
    bool ok = !digits.empty() && digits.size() <= 9;
    for (char c : digits) ok = ok && std::isdigit(static_cast<unsigned char>(c));
    if (ok && std::stoll(digits) >= 1) {
      n.kind = InversionNormals::Kind::every;
      n.k = std::stoll(digits);
      return n;
    }
  }
  throw ConfigError("shape_normals: unknown value '" + name +
                    "'; valid: trained, density, depth, every:K (K an integer >= 1, e.g. every:4)");
}

std::string inversion_normals_name(const InversionNormals& n) {
  switch (n.kind) {
    case InversionNormals::Kind::trained: return "trained";
    case InversionNormals::Kind::density: return "density";
    case InversionNormals::Kind::depth: return "depth";
    case InversionNormals::Kind::every: return "every:" + std::to_string(n.k);
  }
  return "trained";
}

}  // namespace sg::metrics
