// Pieces of a mesh: two spheres' surfaces are two pieces, the larger one kept whole (closed,
// its area unchanged), a speck dropped.
#include <cmath>

#include "shape/components.h"
#include "shape/grid.h"
#include "shape/iso_surface.h"
#include "shape/mesh.h"
#include <doctest/doctest.h>

using namespace sg::shape;

namespace {

// A 48^3 grid over [-0.15, 0.15]^3 of two balls: radius 0.08 at the origin, radius 0.02 in a
// corner (where the demo's specks sit).
Mesh two_balls() {
  GridSpec g;
  g.resolution = 48;
  g.cube_size = 0.3;
  g.reference_shear = false;
  auto density = [](const at::Tensor& p) {
    const at::Tensor q = p.squeeze(0);
    const at::Tensor big = 0.08 - q.norm(2, 1);
    const at::Tensor small = 0.02 - (q - at::tensor({0.12f, 0.12f, 0.12f})).norm(2, 1);
    return (35 + 1000 * at::maximum(big, small)).unsqueeze(0).unsqueeze(-1);
  };
  Mesh m = iso_surface(evaluate_grid(g, density, 50000), g.resolution, g.resolution, g.resolution, 35.f);
  compute_vertex_normals(m);
  return m;
}

}  // namespace

TEST_CASE("connected_pieces: two balls are two pieces, numbered by size") {
  const Mesh m = two_balls();
  const Pieces p = connected_pieces(m);
  REQUIRE(p.vertices.size() == 2);
  CHECK(p.vertices[0] > 10 * p.vertices[1]);
  CHECK(p.vertices[0] + p.vertices[1] == static_cast<int64_t>(m.vertices.size()));
  // Every face lies within one piece.
  for (const auto& f : m.faces) {
    CHECK(p.piece_of_vertex[f[0]] == p.piece_of_vertex[f[1]]);
    CHECK(p.piece_of_vertex[f[0]] == p.piece_of_vertex[f[2]]);
  }
}

TEST_CASE("largest_piece keeps the big ball whole and closed, and drops the speck") {
  const Mesh m = two_balls();
  const Pieces p = connected_pieces(m);
  const Mesh big = largest_piece(m, p);
  CHECK(static_cast<int64_t>(big.vertices.size()) == p.vertices[0]);
  CHECK(big.normals.size() == big.vertices.size());
  CHECK(topology(big).watertight());
  CHECK(connected_pieces(big).vertices.size() == 1);
  // Area in grid units: the whole mesh's minus the speck's, so the kept faces are exactly the
  // big ball's (their area ratio is (0.08 / 0.02)^2 = 16 up to discretisation).
  const double all = surface_area(m), kept = surface_area(big);
  CHECK(kept < all);
  CHECK((all - kept) * 10 < kept);
  // Every kept vertex lies near the origin's ball, none near the corner.
  for (const auto& v : big.vertices) CHECK(v[0] < 40);  // grid index units: the speck sits at ~42
  CHECK(largest_piece(Mesh{}, connected_pieces(Mesh{})).vertices.empty());
}
