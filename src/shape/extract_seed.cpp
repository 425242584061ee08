#include "shape/extract_seed.h"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>

#include "core/error.h"
#include "core/json_file.h"
#include "core/log.h"
#include "core/progress.h"
#include "model/draws.h"
#include "shape/components.h"
#include "shape/iso_surface.h"
#include "shape/mrc.h"
#include "shape/ply.h"

namespace fs = std::filesystem;

namespace sg::shape {

std::string seed_stem(int64_t seed) { return fmt::format("seed{:05d}", seed); }

nlohmann::json finished_seed(const std::string& out_dir, int64_t seed, const std::string& key) {
  const fs::path rec = fs::path(out_dir) / (seed_stem(seed) + ".json");
  if (!fs::exists(rec)) return nullptr;
  nlohmann::json j;
  try {
    j = read_json(rec.string());
  } catch (const Error&) {
    return nullptr;  // a damaged record: redo the seed
  }
  if (j.value("key", "") != key) return nullptr;
  for (const auto& f : j.value("files", nlohmann::json::array()))
    if (!fs::exists(fs::path(out_dir) / f.get<std::string>())) return nullptr;
  return j;
}

nlohmann::json extract_seed(model::Generator& gen, const ExtractSettings& s, int64_t seed,
                            const std::string& out_dir) {
  at::NoGradGuard no_grad;
  const std::string stem = seed_stem(seed);
  model::Draws avg = model::seeded_draws(kAverageCodesSeed);
  gen->ensure_average_codes(avg);
  // extract_shapes.py: seed the RNG, z ~ N(0, I). (It then draws a light, which the density
  // does not depend on, so we skip that draw.)
  model::Draws draws = model::seeded_draws(static_cast<uint64_t>(seed));
  const auto wopts = gen->avg_frequencies.options();
  at::Tensor z = draws.normal(model::Draw::latent, {1, gen->cfg.z_dim}, wopts);
  auto [freq, phase] = gen->truncated_codes(z, s.psi, draws);

  Progress progress("extract " + stem, s.grid.count(), "pt");
  std::vector<float> grid =
      evaluate_grid(s.grid, generator_density(gen, freq, phase), s.batch_points,
                    [&](int64_t done) { progress.set(done); });
  progress.finish();
  const double points_per_s = progress.rate();

  const int64_t N = s.grid.resolution;
  const float top = grid.empty() ? 0.f : *std::max_element(grid.begin(), grid.end());
  const double level = s.relative_threshold > 0 ? s.relative_threshold * double(top) : s.sigma_threshold;
  Mesh mesh = iso_surface(grid, N, N, N, float(level));
  const Pieces pieces = connected_pieces(mesh);
  const size_t all_vertices = mesh.vertices.size();
  if (s.largest_piece_only && pieces.vertices.size() > 1) mesh = largest_piece(mesh, pieces);
  std::array<double, 9> A;
  std::array<double, 3> b;
  grid_affine(s.grid, &A, &b);
  transform(mesh, A, b);

  nlohmann::json files = nlohmann::json::array();
  const std::string ply = stem + ".ply";
  write_ply((fs::path(out_dir) / ply).string(), mesh,
            fmt::format("shadegan extract seed {} psi {} iso-level {}{} voxel_resolution {} cube_size {}{}\n"
                        "world units: x = vs*i - c/2 with vs = c/(N-1) (reference index units: i/N)",
                        seed, s.psi, level,
                        s.relative_threshold > 0 ? fmt::format(" ({} x max density)", s.relative_threshold) : "",
                        N, s.grid.cube_size,
                        s.grid.reference_shear ? " (reference shear)" : ""));
  files.push_back(ply);
  if (s.write_mrc) {
    const std::string mrc = stem + ".mrc";
    write_mrc((fs::path(out_dir) / mrc).string(), grid, N, N, N, s.grid.voxel_size(),
              {-s.grid.cube_size / 2, -s.grid.cube_size / 2, -s.grid.cube_size / 2});
    files.push_back(mrc);
  }
  const Topology topo = topology(mesh);
  nlohmann::json rec = {
      {"seed", seed},
      {"key", s.key},
      {"files", files},
      {"vertices", mesh.vertices.size()},
      {"faces", mesh.faces.size()},
      {"area", surface_area(mesh)},
      {"volume", enclosed_volume(mesh)},
      {"watertight", topo.watertight()},
      {"boundary_edges", topo.boundary_edges},
      {"pieces", pieces.vertices.size()},  // of the iso-surface, before any was dropped
      {"kept", s.largest_piece_only ? "largest piece" : "all pieces"},
      {"kept_vertex_fraction", all_vertices ? double(mesh.vertices.size()) / double(all_vertices) : 1.0},
      {"grid_points_per_s", points_per_s},
      {"units", "world"},
      {"reference_shear", s.grid.reference_shear},
      {"max_density", top},
      {"iso_level", level},
  };
  write_json_atomic((fs::path(out_dir) / (stem + ".json")).string(), rec);
  if (mesh.faces.empty()) {
    // Not an error: an early checkpoint's density may stay below the threshold everywhere.
    log::warn("extract: seed {}: empty mesh, the density never reaches the iso-level {} (its maximum is {}; "
              "relative_threshold sets the level as a fraction of it)",
              seed, level, top);
  } else {
    log::info("extract: seed {} -> {} ({} vertices, {} faces, {}watertight; {} piece{}{})", seed, ply,
              mesh.vertices.size(), mesh.faces.size(), topo.watertight() ? "" : "not ", pieces.vertices.size(),
              pieces.vertices.size() == 1 ? "" : "s",
              s.largest_piece_only && pieces.vertices.size() > 1
                  ? fmt::format(", kept the largest: {:.1f}% of the vertices",
                                100.0 * double(mesh.vertices.size()) / double(all_vertices))
                  : "");
  }
  log::event("extract_seed", rec);
  return rec;
}

}  // namespace sg::shape
