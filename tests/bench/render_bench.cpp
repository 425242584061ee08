// Render and shape-extraction throughput, as ratios measured in one run on one BLAS:
//  1. pixels/s of a 128 px render of the full-size CelebA_ShadeGAN_view generator (random
//     weights) without surface tracking (12 + 12 samples over the whole ray) and with it (the
//     released schedule's end: 6 + 6 samples in a band delta = 0.06423 around the predicted
//     depth); the paper claims 48 % less inference time with tracking.
//  2. density-grid points/s without normals (ours: SIREN trunk + density head) and with them
//     (the reference's extract_shapes: full forward with autograd normals, then discarded).
//  3. iso-surface voxels/s of OpenVDB's volumeToMesh on a 192^3 sphere grid.
//   ninja -C build bench_render && build/tests/bench/bench_render
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>

#include "model/generator.h"
#include "render/render_seed.h"
#include "shape/grid.h"
#include "shape/iso_surface.h"

using namespace sg;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void print_blas() {
  std::ifstream maps("/proc/self/maps");
  std::set<std::string> libs;
  std::string line;
  while (std::getline(maps, line)) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    for (const char* key : {"blas", "lapack"})
      if (path.find(key) != std::string::npos) libs.insert(path);
  }
  std::printf("BLAS: ");
  for (const auto& l : libs) std::printf("%s ", l.c_str());
  std::printf("; torch threads %d\n", at::get_num_threads());
}

}  // namespace

int main(int argc, char** argv) {
  print_blas();
  torch::manual_seed(0);
  model::Generator gen(model::GeneratorConfig{});  // CelebA_ShadeGAN_view, full size
  gen->eval();
  model::Draws draws = model::seeded_draws(1);
  gen->compute_average_codes(draws);
  torch::NoGradGuard ng;
  const at::Tensor z = torch::randn({1, 256});
  const at::Tensor light = torch::tensor({0.17f, 0.42f, 0.5f, 0.3f}).unsqueeze(0);
  const int64_t S = argc > 1 ? std::atoll(argv[1]) : 128;

  // 1. Render with and without surface tracking.
  auto render = [&](double delta, int64_t steps) {
    model::RenderOptions o;
    o.img_size = S;
    o.num_steps = steps;
    o.delta = delta;
    o.psi = 0.5;
    o.rt_normal = true;
    o.camera.dist = model::CameraDist::fixed;
    const double t0 = now();
    render::generator_renderer(gen, o, z, draws)(M_PI / 2, M_PI / 2, light);
    return double(S * S) / (now() - t0);
  };
  render(0.06423, 6);  // warm-up
  const double full = render(-1, 12), tracked = render(0.06423, 6);
  std::printf("render %lld px: full rays (12+12 samples) %.0f px/s, surface tracking (6+6, delta 0.0642) %.0f px/s: "
              "%.2fx, %.0f%% less time per image (paper: 48%%)\n",
              (long long)S, full, tracked, tracked / full, 100 * (1 - full / tracked));

  // 2. Grid points with and without normals.
  auto [freq, phase] = gen->truncated_codes(z, 0.5, draws);
  shape::GridSpec g{64, 0.3, true};
  const int64_t batch = 100000, points = 3 * batch;
  auto grid_rate = [&](bool normals) {
    const double t0 = now();
    for (int64_t head = 0; head < points; head += batch) {
      at::Tensor p = shape::grid_points(g, head, batch).unsqueeze(0);
      if (normals) {
        torch::AutoGradMode on(true);  // what the reference's SIREN forces on with shading
        at::Tensor dirs = at::zeros_like(p);
        dirs.select(-1, 2).fill_(-1);
        gen->siren->forward(p, freq, phase, light, dirs, true);
      } else {
        gen->siren->density(p, freq, phase);
      }
    }
    return double(points) / (now() - t0);
  };
  const double with_n = grid_rate(true), without_n = grid_rate(false);
  std::printf("density grid: with normals (reference) %.0f pt/s, density only (ours) %.0f pt/s: %.2fx\n", with_n,
              without_n, without_n / with_n);

  // 3. Iso-surface.
  const int64_t N = 192;
  std::vector<float> values(size_t(N * N * N));
  for (int64_t i = 0; i < N; ++i)
    for (int64_t j = 0; j < N; ++j)
      for (int64_t k = 0; k < N; ++k) {
        const double x = i - N / 2.0, y = j - N / 2.0, w = k - N / 2.0;
        values[size_t((i * N + j) * N + k)] = float(std::max(0.0, 35 + 10 * (N / 3.0 - std::sqrt(x * x + y * y + w * w))));
      }
  const double t0 = now();
  const shape::Mesh m = shape::iso_surface(values, N, N, N, 35.f);
  const double dt = now() - t0;
  std::printf("iso-surface %lld^3: %.2f s, %.1f M voxels/s, %zu vertices, %zu faces\n", (long long)N, dt,
              double(N * N * N) / dt / 1e6, m.vertices.size(), m.faces.size());
  return 0;
}
