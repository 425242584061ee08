#pragma once
// The raw density grid as MRC2014 (mode 2, float32), the format pi-GAN saved its grids in and
// ChimeraX, IMOD and Python's mrcfile read. (.mrc only: no HDF5 variant, so shape stays free of
// the HDF5/MPI stack; mrcfile and numpy read .mrc directly.)
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace sg::shape {

// values indexed (i, j, k) at (i * n1 + j) * n2 + k, with i the slowest: stored as MRC sections
// along i (nz = n0, ny = n1, nx = n2), so mrcfile's data[i, j, k] is values' (i, j, k).
// voxel_size (world units per sample) goes into the cell dimensions, origin into the header.
void write_mrc(const std::string& path, const std::vector<float>& values, int64_t n0, int64_t n1,
               int64_t n2, double voxel_size, const std::array<double, 3>& origin);

}  // namespace sg::shape
