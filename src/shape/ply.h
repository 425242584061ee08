#pragma once
// Binary little-endian PLY: vertex (float x, y, z, nx, ny, nz), face (uchar count, uint indices),
// the layout MeshLab, Blender, trimesh and Open3D all read. Written atomically.
#include <string>

#include "shape/mesh.h"

namespace sg::shape {

std::string encode_ply(const Mesh& mesh, const std::string& comment = "");
void write_ply(const std::string& path, const Mesh& mesh, const std::string& comment = "");
// Reads what encode_ply writes (and any binary_little_endian PLY with float x/y/z, optional
// float nx/ny/nz, and uchar/uint8 + int/uint face lists of triangles). FormatError naming
// `source` for anything else.
Mesh decode_ply(const std::string& bytes, const std::string& source);
Mesh read_ply(const std::string& path);

}  // namespace sg::shape
