#pragma once
// The sampling grid of shape extraction (spec §9): N^3 points spanning [-c/2, c/2] per axis with
// spacing c / (N - 1), flat index k = (i N + j) N + m with m fastest, and the density of a
// generator's SIREN at those points, evaluated in batches of bounded size.
//
// The reference computes the coordinates with floating-point division, which shears the grid by
// up to one voxel: x = vs (i + j/N + m/N^2) - c/2, y = vs (j + m/N) - c/2, z = vs m - c/2
// (spec §12.17). `reference_shear` reproduces that (the default, so meshes match the reference's);
// off gives the intended regular lattice x = vs i - c/2, y = vs j - c/2, z = vs m - c/2.
#include <ATen/ATen.h>

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "model/generator.h"

namespace sg::shape {

struct GridSpec {
  int64_t resolution = 256;  // N
  double cube_size = 0.3;    // c, world units
  bool reference_shear = true;

  double voxel_size() const { return cube_size / double(resolution - 1); }
  int64_t count() const { return resolution * resolution * resolution; }
};

// ConfigError when N < 2, c <= 0, or the grid (the float grid plus the mesher's working copy)
// would not fit in `memory_budget_bytes`.
void validate(const GridSpec& g, double memory_budget_bytes);
// Bytes the extraction of one grid needs at its peak (density grid, the mesher's dense copy and
// sparse tree), the number validate() compares with the budget.
double grid_memory_bytes(const GridSpec& g);

// World position of (possibly fractional) grid indices, with or without the reference's shear.
// Affine in (i, j, m): `affine()` gives the matrix (row-major) and offset.
std::array<double, 3> grid_to_world(const GridSpec& g, double i, double j, double m);
void grid_affine(const GridSpec& g, std::array<double, 9>* A, std::array<double, 3>* b);

// The world points of flat indices [first, first + count), (count, 3) float32.
at::Tensor grid_points(const GridSpec& g, int64_t first, int64_t count);

// sigma(points (1, P, 3)) -> (1, P, 1): the raw density of one latent.
using DensityFn = std::function<at::Tensor(const at::Tensor& points)>;

// Every grid point's density, clamped at >= 0 (as the reference does before marching cubes),
// evaluated `batch` points at a time under no-grad; `progress(done)` after each batch.
std::vector<float> evaluate_grid(const GridSpec& g, const DensityFn& density, int64_t batch,
                                 const std::function<void(int64_t)>& progress = {});

// The SIREN's raw density for codes (1, 9H) (already truncated): no colour head, no normals.
DensityFn generator_density(model::Generator& gen, const at::Tensor& freq, const at::Tensor& phase);

}  // namespace sg::shape
