#pragma once
// Shape extraction of one seed (spec §9): the seed's latent, truncated codes, the density grid,
// the iso-surface in world units as binary PLY, optionally the raw grid as .mrc, and a small
// JSON record written last, which is what makes the seed "done" (a rerun with the same settings
// skips it; other settings redo it).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "model/generator.h"
#include "shape/grid.h"

namespace sg::shape {

struct ExtractSettings {
  GridSpec grid;
  double psi = 0.5;               // truncation (extract_shapes.py's)
  double sigma_threshold = 35;    // iso-value on the raw density
  // Ours, not the reference's: when > 0, the iso-value is this fraction of the grid's largest
  // density instead of sigma_threshold. The reference's 35 suits a converged generator; an early
  // checkpoint's density stays far below it (the 40-step demo's peaks near 0.1), and a relative
  // level still shows where its density concentrates.
  double relative_threshold = 0;
  // Ours: keep only the largest connected piece of the mesh (components.h says why). The record
  // always counts the pieces and the share of vertices kept.
  bool largest_piece_only = false;
  int64_t batch_points = 100000;  // SIREN points per batch (the reference's chunk)
  bool write_mrc = false;         // also the raw grid, <seed>.mrc
  // What the outputs are a function of besides the seed (checkpoint hash, options): a seed whose
  // record carries another key is redone.
  std::string key;
};

// Files of one seed, all in `out_dir`: seed00007.ply, seed00007.mrc (write_mrc), seed00007.json.
std::string seed_stem(int64_t seed);

// The record of a finished seed with this key, or null when it must be (re)done.
nlohmann::json finished_seed(const std::string& out_dir, int64_t seed, const std::string& key);

// The averages behind truncation come from a fixed stream (not the seed's), computed once per
// weights, so a seed's shape does not depend on which other seeds share its task.
constexpr uint64_t kAverageCodesSeed = 0x5eed0a1e;

// Extracts `seed` and returns its record (also written as <stem>.json, last).
nlohmann::json extract_seed(model::Generator& gen, const ExtractSettings& s, int64_t seed,
                            const std::string& out_dir);

}  // namespace sg::shape
