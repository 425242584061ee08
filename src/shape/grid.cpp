#include "shape/grid.h"

#include <torch/torch.h>

#include <cmath>
#include <string>

#include "core/error.h"

namespace sg::shape {

double grid_memory_bytes(const GridSpec& g) {
  // The float grid, OpenVDB's dense copy of it, and its sparse tree (at worst as large again).
  return 3.0 * 4.0 * double(g.resolution) * double(g.resolution) * double(g.resolution);
}

void validate(const GridSpec& g, double memory_budget_bytes) {
  if (g.resolution < 2) throw ConfigError("voxel_resolution must be >= 2, got " + std::to_string(g.resolution));
  if (g.resolution > 2048)
    throw ConfigError("voxel_resolution " + std::to_string(g.resolution) +
                      " is beyond 2048 (index range of the mesher and the PLY's 32-bit indices)");
  if (!(g.cube_size > 0)) throw ConfigError("cube_size must be > 0, got " + std::to_string(g.cube_size));
  const double need = grid_memory_bytes(g);
  if (need > memory_budget_bytes)
    throw ConfigError("voxel_resolution " + std::to_string(g.resolution) + ": the grid needs " +
                      std::to_string(int64_t(need / (1 << 20))) + " MiB, more than the " +
                      std::to_string(int64_t(memory_budget_bytes / (1 << 20))) +
                      " MiB budget (max_memory_gb, at most the memory available)");
}

void grid_affine(const GridSpec& g, std::array<double, 9>* A, std::array<double, 3>* b) {
  const double vs = g.voxel_size(), N = double(g.resolution);
  if (g.reference_shear) {
    *A = {vs, vs / N, vs / (N * N), 0, vs, vs / N, 0, 0, vs};
  } else {
    *A = {vs, 0, 0, 0, vs, 0, 0, 0, vs};
  }
  *b = {-g.cube_size / 2, -g.cube_size / 2, -g.cube_size / 2};
}

std::array<double, 3> grid_to_world(const GridSpec& g, double i, double j, double m) {
  std::array<double, 9> A;
  std::array<double, 3> b;
  grid_affine(g, &A, &b);
  return {A[0] * i + A[1] * j + A[2] * m + b[0], A[3] * i + A[4] * j + A[5] * m + b[1],
          A[6] * i + A[7] * j + A[8] * m + b[2]};
}

at::Tensor grid_points(const GridSpec& g, int64_t first, int64_t count) {
  const int64_t N = g.resolution;
  at::Tensor k = at::arange(first, first + count, at::kLong);
  at::Tensor i = at::floor_divide(k, N * N).to(at::kDouble);
  at::Tensor j = at::remainder(at::floor_divide(k, N), N).to(at::kDouble);
  at::Tensor m = at::remainder(k, N).to(at::kDouble);
  std::array<double, 9> A;
  std::array<double, 3> b;
  grid_affine(g, &A, &b);
  at::Tensor x = i * A[0] + j * A[1] + m * A[2] + b[0];
  at::Tensor y = i * A[3] + j * A[4] + m * A[5] + b[1];
  at::Tensor z = i * A[6] + j * A[7] + m * A[8] + b[2];
  return at::stack({x, y, z}, 1).to(at::kFloat);
}

std::vector<float> evaluate_grid(const GridSpec& g, const DensityFn& density, int64_t batch,
                                 const std::function<void(int64_t)>& progress) {
  if (batch < 1) throw ConfigError("batch_points must be >= 1");
  at::NoGradGuard no_grad;
  const int64_t total = g.count();
  std::vector<float> out(static_cast<size_t>(total));
  for (int64_t head = 0; head < total; head += batch) {
    const int64_t n = std::min(batch, total - head);
    at::Tensor s = density(grid_points(g, head, n).unsqueeze(0)).reshape({n}).clamp_min(0)
                       .to(at::kCPU, at::kFloat).contiguous();
    std::memcpy(out.data() + head, s.data_ptr<float>(), size_t(n) * sizeof(float));
    if (progress) progress(head + n);
  }
  return out;
}

DensityFn generator_density(model::Generator& gen, const at::Tensor& freq, const at::Tensor& phase) {
  model::Generator g = gen;
  return [g, freq, phase](const at::Tensor& points) mutable {
    return g->siren->density(points.to(freq.device()), freq, phase);
  };
}

}  // namespace sg::shape
