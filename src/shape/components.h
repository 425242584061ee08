#pragma once
// The connected pieces of a mesh (faces that share a vertex belong to one piece). A learned
// density has, besides the object, specks where no training ray ever looked: the extraction
// cube's corners lie outside every camera's frustum or ray range, so nothing constrains the
// density there (measured on the demo: 20-odd small pieces, each touching the cube's boundary,
// around one object holding ~72% of the vertices). extract's `components = "largest"` keeps
// the object; every seed's record says how many pieces there were and what share was kept.
#include <cstdint>
#include <vector>

#include "shape/mesh.h"

namespace sg::shape {

struct Pieces {
  std::vector<int64_t> piece_of_vertex;  // per vertex: its piece, 0 = the most vertices
  std::vector<int64_t> vertices;         // per piece, descending
};

// Union-find over the faces' vertices. Vertices no face uses form pieces of their own.
Pieces connected_pieces(const Mesh& mesh);

// The piece with the most vertices, its vertices renumbered in their original order (normals
// carried along); an empty mesh stays empty.
Mesh largest_piece(const Mesh& mesh, const Pieces& pieces);

}  // namespace sg::shape
