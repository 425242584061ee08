#include "shape/components.h"

#include <algorithm>
#include <numeric>

namespace sg::shape {

namespace {

int64_t root(std::vector<int64_t>& parent, int64_t x) {
  while (parent[x] != x) {
    parent[x] = parent[parent[x]];  // path halving keeps the trees shallow
    x = parent[x];
  }
  return x;
}

}  // namespace

Pieces connected_pieces(const Mesh& mesh) {
  const int64_t n = static_cast<int64_t>(mesh.vertices.size());
  std::vector<int64_t> parent(n);
  std::iota(parent.begin(), parent.end(), 0);
  for (const auto& f : mesh.faces)
    for (int k = 1; k < 3; ++k) {
      const int64_t a = root(parent, f[0]), b = root(parent, f[k]);
      if (a != b) parent[std::max(a, b)] = std::min(a, b);
    }
  // Count by root, then number the pieces by size (ties: the piece met first keeps its place).
  std::vector<int64_t> count(n, 0);
  for (int64_t v = 0; v < n; ++v) ++count[root(parent, v)];
  std::vector<int64_t> roots;
  for (int64_t v = 0; v < n; ++v)
    if (parent[v] == v) roots.push_back(v);
  std::stable_sort(roots.begin(), roots.end(), [&](int64_t a, int64_t b) { return count[a] > count[b]; });
  std::vector<int64_t> index_of_root(n, -1);
  Pieces p;
  for (size_t i = 0; i < roots.size(); ++i) {
    index_of_root[roots[i]] = static_cast<int64_t>(i);
    p.vertices.push_back(count[roots[i]]);
  }
  p.piece_of_vertex.resize(n);
  for (int64_t v = 0; v < n; ++v) p.piece_of_vertex[v] = index_of_root[root(parent, v)];
  return p;
}

Mesh largest_piece(const Mesh& mesh, const Pieces& pieces) {
  Mesh out;
  if (pieces.vertices.empty()) return out;
  const bool normals = mesh.normals.size() == mesh.vertices.size();
  std::vector<int64_t> renumbered(mesh.vertices.size(), -1);
  for (size_t v = 0; v < mesh.vertices.size(); ++v) {
    if (pieces.piece_of_vertex[v] != 0) continue;
    renumbered[v] = static_cast<int64_t>(out.vertices.size());
    out.vertices.push_back(mesh.vertices[v]);
    if (normals) out.normals.push_back(mesh.normals[v]);
  }
  for (const auto& f : mesh.faces)
    if (pieces.piece_of_vertex[f[0]] == 0)
      out.faces.push_back({static_cast<uint32_t>(renumbered[f[0]]), static_cast<uint32_t>(renumbered[f[1]]),
                           static_cast<uint32_t>(renumbered[f[2]])});
  return out;
}

}  // namespace sg::shape
