#include "shape/mesh.h"

#include <cmath>
#include <map>
#include <utility>

namespace sg::shape {

namespace {

using V3 = std::array<double, 3>;

V3 at(const Mesh& m, uint32_t i) { return {m.vertices[i][0], m.vertices[i][1], m.vertices[i][2]}; }
V3 sub(const V3& a, const V3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
V3 cross(const V3& a, const V3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
double dot(const V3& a, const V3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
double norm(const V3& a) { return std::sqrt(dot(a, a)); }

}  // namespace

void compute_vertex_normals(Mesh& mesh) {
  std::vector<V3> acc(mesh.vertices.size(), V3{0, 0, 0});
  for (const auto& f : mesh.faces) {
    // The cross product's length is twice the face area: an area-weighted sum.
    const V3 n = cross(sub(at(mesh, f[1]), at(mesh, f[0])), sub(at(mesh, f[2]), at(mesh, f[0])));
    for (uint32_t v : f)
      for (int k = 0; k < 3; ++k) acc[v][k] += n[k];
  }
  mesh.normals.resize(mesh.vertices.size());
  for (size_t i = 0; i < acc.size(); ++i) {
    const double l = norm(acc[i]);
    for (int k = 0; k < 3; ++k) mesh.normals[i][k] = l > 0 ? float(acc[i][k] / l) : 0.f;
  }
}

double surface_area(const Mesh& mesh) {
  double a = 0;
  for (const auto& f : mesh.faces)
    a += 0.5 * norm(cross(sub(at(mesh, f[1]), at(mesh, f[0])), sub(at(mesh, f[2]), at(mesh, f[0]))));
  return a;
}

double enclosed_volume(const Mesh& mesh) {
  double v = 0;
  for (const auto& f : mesh.faces) v += dot(at(mesh, f[0]), cross(at(mesh, f[1]), at(mesh, f[2])));
  return v / 6;
}

Topology topology(const Mesh& mesh) {
  // Undirected edge -> (uses, signed direction sum): a consistently oriented closed surface
  // traverses every edge exactly twice, once each way.
  std::map<std::pair<uint32_t, uint32_t>, std::pair<int, int>> edges;
  for (const auto& f : mesh.faces) {
    for (int k = 0; k < 3; ++k) {
      const uint32_t a = f[k], b = f[(k + 1) % 3];
      auto& e = edges[{std::min(a, b), std::max(a, b)}];
      e.first += 1;
      e.second += a < b ? 1 : -1;
    }
  }
  Topology t;
  t.edges = static_cast<int64_t>(edges.size());
  for (const auto& [key, e] : edges) {
    if (e.first == 1) ++t.boundary_edges;
    else if (e.first > 2) ++t.nonmanifold_edges;
    else if (e.second != 0) ++t.misoriented_edges;
  }
  return t;
}

void transform(Mesh& mesh, const std::array<double, 9>& A, const std::array<double, 3>& b) {
  for (auto& v : mesh.vertices) {
    const V3 p{v[0], v[1], v[2]};
    for (int r = 0; r < 3; ++r) v[r] = float(A[3 * r] * p[0] + A[3 * r + 1] * p[1] + A[3 * r + 2] * p[2] + b[r]);
  }
  if (mesh.normals.empty()) return;
  // Normals transform by the inverse transpose: the cofactor matrix (its scale drops out when
  // renormalising; a negative determinant would flip orientation, so the sign is kept).
  const double c[9] = {A[4] * A[8] - A[5] * A[7], A[5] * A[6] - A[3] * A[8], A[3] * A[7] - A[4] * A[6],
                       A[2] * A[7] - A[1] * A[8], A[0] * A[8] - A[2] * A[6], A[1] * A[6] - A[0] * A[7],
                       A[1] * A[5] - A[2] * A[4], A[2] * A[3] - A[0] * A[5], A[0] * A[4] - A[1] * A[3]};
  for (auto& n : mesh.normals) {
    const V3 p{n[0], n[1], n[2]};
    V3 q{c[0] * p[0] + c[1] * p[1] + c[2] * p[2], c[3] * p[0] + c[4] * p[1] + c[5] * p[2],
         c[6] * p[0] + c[7] * p[1] + c[8] * p[2]};
    const double l = norm(q);
    for (int k = 0; k < 3; ++k) n[k] = l > 0 ? float(q[k] / l) : 0.f;
  }
}

}  // namespace sg::shape
