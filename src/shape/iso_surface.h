#pragma once
// The iso-surface of a dense scalar grid, through OpenVDB's tools::volumeToMesh (Debian's
// libopenvdb-dev 10). Chosen over VTK's flying edges and CGAL: the VTK -dev package pulls ~96
// packages (Java, Qt-class dependencies) and CGAL's mesher is for implicit functions, while
// OpenVDB pulls 6 and its mesher is a maintained dual-contouring variant that closes the surface
// at the grid's border (cells outside the grid are background, i.e. outside), so a shape that
// touches the border still gives a closed mesh (its closing faces lie up to one voxel beyond the
// outermost samples; PyMCubes on the reference's array leaves a hole there instead). Its headers need Boost's (libboost-dev, which
// Debian's libopenvdb-dev forgets to depend on) and the library needs TBB and Imath.
#include <cstdint>
#include <vector>

#include "shape/mesh.h"

namespace sg::shape {

// values: n0 * n1 * n2 floats, index (i, j, k) at (i * n1 + j) * n2 + k. "Inside" is where the
// value exceeds `iso`. The mesh is in index units (vertex (i, j, k) = the sample (i, j, k)),
// triangles only (quads split), counter-clockwise from outside, with vertex normals.
Mesh iso_surface(const std::vector<float>& values, int64_t n0, int64_t n1, int64_t n2, float iso);

}  // namespace sg::shape
