#include "shape/iso_surface.h"

#include <openvdb/openvdb.h>
#include <openvdb/tools/Dense.h>
#include <openvdb/tools/VolumeToMesh.h>

#include <mutex>

#include "core/error.h"

namespace sg::shape {

Mesh iso_surface(const std::vector<float>& values, int64_t n0, int64_t n1, int64_t n2, float iso) {
  if (n0 < 2 || n1 < 2 || n2 < 2 || static_cast<int64_t>(values.size()) != n0 * n1 * n2)
    throw StageError("iso_surface: a grid of at least 2^3 values, as many as its dimensions say");
  static std::once_flag init;
  std::call_once(init, [] { openvdb::initialize(); });

  // OpenVDB meshes the surface with negative values inside (level-set convention): negate, so
  // density above `iso` becomes inside. Values equal to the background (-0: empty space, where
  // density is clamped to 0) stay inactive, which keeps the tree sparse.
  const openvdb::CoordBBox box(openvdb::Coord(0, 0, 0),
                               openvdb::Coord(int(n0 - 1), int(n1 - 1), int(n2 - 1)));
  // LayoutXYZ: z varies fastest, our (i, j, k) -> (x, y, z) order.
  openvdb::tools::Dense<float, openvdb::tools::LayoutXYZ> dense(box, 0.f);
  float* d = dense.data();
  for (size_t i = 0; i < values.size(); ++i) d[i] = -values[i];
  openvdb::FloatGrid::Ptr grid = openvdb::FloatGrid::create(0.f);
  openvdb::tools::copyFromDense(dense, *grid, /*tolerance=*/0.f);

  std::vector<openvdb::Vec3s> points;
  std::vector<openvdb::Vec3I> tris;
  std::vector<openvdb::Vec4I> quads;
  openvdb::tools::volumeToMesh(*grid, points, tris, quads, -double(iso), /*adaptivity=*/0.0);

  Mesh m;
  m.vertices.reserve(points.size());
  for (const auto& p : points) m.vertices.push_back({p.x(), p.y(), p.z()});
  // volumeToMesh already orients polygons counter-clockwise seen from outside (the "inside" of
  // its level-set convention, our high density): the order PLY readers take as front-facing.
  m.faces.reserve(tris.size() + 2 * quads.size());
  for (const auto& t : tris) m.faces.push_back({t[0], t[1], t[2]});
  for (const auto& q : quads) {
    m.faces.push_back({q[0], q[1], q[2]});
    m.faces.push_back({q[0], q[2], q[3]});
  }
  compute_vertex_normals(m);
  return m;
}

}  // namespace sg::shape
