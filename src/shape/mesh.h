#pragma once
// A triangle mesh as the iso-surface produces it and the PLY writer stores it, plus the few
// measurements the tests and the extraction log use: surface area, enclosed volume, and whether
// the surface is closed (every edge shared by exactly two triangles, consistently oriented).
#include <array>
#include <cstdint>
#include <vector>

namespace sg::shape {

struct Mesh {
  std::vector<std::array<float, 3>> vertices;
  std::vector<std::array<uint32_t, 3>> faces;    // counter-clockwise seen from outside
  std::vector<std::array<float, 3>> normals;     // per vertex, unit, outward (may be empty)
};

// Area-weighted average of the incident faces' normals, normalised (a vertex of degenerate faces
// only gets (0, 0, 0)).
void compute_vertex_normals(Mesh& mesh);

double surface_area(const Mesh& mesh);
// Signed volume by the divergence theorem: positive when the faces point outward.
double enclosed_volume(const Mesh& mesh);

struct Topology {
  int64_t edges = 0;
  int64_t boundary_edges = 0;     // used by one face: a hole
  int64_t nonmanifold_edges = 0;  // used by three or more faces
  int64_t misoriented_edges = 0;  // two faces traverse it in the same direction
  bool watertight() const { return boundary_edges == 0 && nonmanifold_edges == 0 && misoriented_edges == 0; }
};
Topology topology(const Mesh& mesh);

// Apply x' = A x + b to every vertex (A row-major 3x3) and carry the normals along (by the
// inverse transpose, renormalised); used to move a mesh from grid indices to world units.
void transform(Mesh& mesh, const std::array<double, 9>& A, const std::array<double, 3>& b);

}  // namespace sg::shape
