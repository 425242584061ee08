#pragma once
// render.py (spec §8) for one seed: z and a light from the prior under the seed's RNG, a yaw
// sweep (rotate: h_mean + [-0.5, -0.25, 0, 0.25, 0.5], pitch v_mean) times a light sweep
// (relight: l = (0.17, 0.42, dx, 0.3), dx in [-1.5, -1, 0, 1, 1.5]; else the sampled light),
// each view written as PNG maps, plus a contact sheet and an animated GIF of the rotation.
//
// Layout: <out>/seed00007/ holds yaw{i}_light{j}_{rgb,albedo,depth,normal,shading,diffuse,
// depth_pred}.png (albedo/shading/diffuse with shading, depth_pred with surface tracking),
// sheet.png, rotation.gif (with rotate) and render.json (settings, files). The directory is
// built under a temporary name and renamed into place, so a seed is there whole or not at all,
// and a rerun skips seeds whose render.json carries the same key.
#include <ATen/ATen.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/generator.h"
#include "model/options.h"
#include "model/shading.h"

namespace sg::render {

struct RenderSettings {
  model::RenderOptions options;  // img_size, num_steps, delta, psi, camera means, ...
  bool rotate = false;
  bool relight = false;
  int gif_delay_cs = 12;  // per GIF frame, hundredths of a second
  std::string key;        // what the images are a function of besides the seed
};

std::vector<double> yaw_offsets(bool rotate);
// (L, 4): the relight sweep, or `sampled` (1, 4) alone.
at::Tensor sweep_lights(const at::Tensor& sampled, bool relight);

// One view's maps: rgb and albedo (3, S, S) in [0, 1]; normal (3, S, S) unit; depth (S, S)
// distance along the ray; shading (S, S); depth_pred (s, s) (each undefined when not made).
struct ViewMaps {
  at::Tensor rgb, albedo, normal, depth, shading, depth_pred;
};
// Renders the view at (pitch, yaw) under light (1, 4).
using ViewRenderer = std::function<ViewMaps(double pitch, double yaw, const at::Tensor& light)>;

// staged_forward of `gen` for latent z (1, z_dim), consuming `draws` per view as render.py's
// loop does (perturbation, fine samples).
ViewRenderer generator_renderer(model::Generator gen, const model::RenderOptions& opt, at::Tensor z,
                                model::Draws& draws);

// Renders every view of one seed with `view` under the sweep and writes the seed's directory.
// `light` (1, 4) is the seed's sampled light. Returns the record written as render.json.
nlohmann::json render_views(const ViewRenderer& view, const RenderSettings& s, int64_t seed,
                            const at::Tensor& light, const std::string& out_dir);

constexpr uint64_t kAverageCodesSeed = 0x5eed0a1e;  // as shape/extract_seed.h: the same truncation centre

// The whole seed from a generator: torch.manual_seed(seed); z ~ N(0, I); l from `prior` (when
// `prior` has no mean, the light draw is still consumed so the stream matches, and relight is
// required); then render_views.
nlohmann::json render_seed(model::Generator& gen, const model::LightPrior& prior, const RenderSettings& s,
                           int64_t seed, const std::string& out_dir);

std::string seed_dir_name(int64_t seed);  // seed00007
// The record of a finished seed with this key, or null when it must be (re)done.
nlohmann::json finished_seed(const std::string& out_dir, int64_t seed, const std::string& key);

// How a view is rendered: staged_forward in tiles of model::tile_rays(options) rays (from
// max_batch_size), without the whole image's per-sample outputs (only the maps are used).
model::Tiling view_tiling();

// Peak bytes of one view rendered in tiles, in three parts: per pixel of the whole image (the
// maps, and the random draws that are drawn for the whole image so any tiling gives the same
// pixels), one tile's per-sample buffers (coarse and fine passes), and the SIREN chunk with the
// graph of its normals' backward pass.
struct ViewMemory {
  int64_t tile_rays = 0;  // rays per tile (at most the image's pixels)
  double image = 0, tile = 0, chunk = 0;
  double total() const { return image + tile + chunk; }
};
ViewMemory view_memory(const model::RenderOptions& o, int64_t hidden_dim);
double view_memory_bytes(const model::RenderOptions& o, int64_t hidden_dim);
// The settings' check before any work (ConfigError): sizes and steps that cannot render, and a
// view that does not fit the budget even in tiles (the per-pixel part alone, or with the tile
// and chunk that max_batch_size sets).
void validate(const RenderSettings& s, int64_t hidden_dim, double memory_budget_bytes);

}  // namespace sg::render
