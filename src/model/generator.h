#pragma once
// ImplicitGenerator3d (spec §2): the SIREN, the optional surface tracking net, the training
// forward (with normals through double backward) and staged_forward, the inference render in
// tiles of rays with the SIREN in chunks of points.
#include <torch/nn/module.h>

#include <vector>

#include "model/draws.h"
#include "model/options.h"
#include "model/siren.h"
#include "model/surface_net.h"

namespace sg::model {

struct GeneratorOutput {
  at::Tensor rgb;         // (B, 3, S, S) in [-1, 1]
  at::Tensor albedo;      // staged: (B, 3, S, S) in [-1, 1]; training: (B, S*S, 3) in [0, 1]
  at::Tensor shading;     // staged: (B, S, S); training: (B, S*S, 1)
  at::Tensor normal;      // (B, 3, S, S) unit per pixel, when computed: the normals that shaded
                          // the image (with shading_normals = "depth", the depth map's)
  at::Tensor density_normal;  // (B, 3, S, S) the density gradient's, when computed (per-sample
                              // normals: density shading, or rt_normal); the shape metrics' normals
  at::Tensor depth;       // (B, S, S) clamped; training with surf_track: resized to the net's size
  at::Tensor depth_std;   // training: coarse pass, like depth; staged: final pass (B, S*S, 1)
  at::Tensor weights;     // (B, S*S, K, 1); staged: only with Tiling::keep_samples
  at::Tensor pose;        // (B, 2) = (pitch, yaw)
  at::Tensor depth_pred;  // (B, size, size) surface-net depth, when surf_track
  at::Tensor z_vals;      // (B, S*S, N, 1) coarse (perturbed) distances (staged: keep_samples)
  at::Tensor fine_z_vals; // (B*S*S, N) importance-sampled distances, when hierarchical (ditto)
};

// How staged_forward walks an image (issue #8). Rays are independent given the codes, the pose
// and the light, so the image is rendered in tiles of at most `max_rays` rays of one batch
// element, each through the coarse pass, importance sampling and the fine pass on its own: the
// per-sample tensors (about 100 floats per sample) exist for one tile at a time. What stays
// whole-image is per pixel (the composited maps) plus the random draws, which are drawn for the
// whole image in the reference's order and shapes and sliced per tile, so any tiling gives the
// pixels of the untiled render.
struct Tiling {
  // Rays per tile; 0: from max_batch_size (tile_rays). Tiles made of whole SIREN chunks give the
  // untiled render's pixels bit for bit; others differ by float rounding (GEMMs of other shapes).
  int64_t max_rays = 0;
  // Also return the per-sample weights, z_vals and fine_z_vals of the whole image
  // (pixels x samples memory); renderers that only want the maps turn this off.
  bool keep_samples = true;
};
// The rays per tile staged_forward uses (at least 1): max_rays, else lcm(num_steps,
// max_batch_size) / num_steps (tiles of whole chunks) when that is at most kMaxChunksPerTile
// chunks, else max_batch_size / num_steps.
constexpr int64_t kMaxChunksPerTile = 16;
int64_t tile_rays(const RenderOptions& opt, const Tiling& tiling = {});

struct GeneratorImpl : torch::nn::Module {
  explicit GeneratorImpl(const GeneratorConfig& cfg);

  // The training forward (spec §2.7): untruncated codes, grad as the caller's mode. `pose`
  // (B, 2) = (pitch, yaw) replaces the camera draw when defined.
  GeneratorOutput forward(const at::Tensor& z, const at::Tensor& light, const RenderOptions& opt,
                          Draws& draws, const at::Tensor& pose = {});
  // staged_forward (spec §2.8): no grad, truncated codes (psi), the image in tiles of rays per
  // batch element (see Tiling), the SIREN in chunks of max_batch_size points within a tile.
  GeneratorOutput staged_forward(const at::Tensor& z, const at::Tensor& light,
                                 const RenderOptions& opt, Draws& draws,
                                 const at::Tensor& pose = {}, const Tiling& tiling = {});
  // staged_forward from given (raw) codes; psi is not applied.
  GeneratorOutput staged_forward_with_codes(const at::Tensor& freq, const at::Tensor& phase,
                                            const at::Tensor& light, const RenderOptions& opt,
                                            Draws& draws, const at::Tensor& pose = {},
                                            const Tiling& tiling = {});
  // Truncated codes f' = avg + psi (f - avg) (also for shape extraction). Uses the averages of
  // the current weights (computed on demand, see average_codes).
  std::pair<at::Tensor, at::Tensor> truncated_codes(const at::Tensor& z, double psi, Draws& draws,
                                                    bool redraw_averages = false);

  // generate_avg_frequencies: mean mapping output over n latents drawn from Draw::avg_latents.
  void compute_average_codes(Draws& draws, int64_t n = 10000);
  // The averages for the current mapping weights: recomputed only when the mapping network's
  // parameters changed (storage or in-place version) since the last computation.
  void ensure_average_codes(Draws& draws);
  // Use these averages (1, 9 H) for the current weights (e.g. a reference run's captured ones).
  void set_average_codes(const at::Tensor& freq, const at::Tensor& phase);
  at::Tensor avg_frequencies, avg_phase_shifts;  // (1, 9 H); plain tensors, not state

  GeneratorConfig cfg;
  Siren siren{nullptr};
  ResDecoder surfacenet{nullptr};

 private:
  std::vector<int64_t> mapping_stamp() const;
  std::vector<int64_t> avg_stamp_;
};
TORCH_MODULE(Generator);

}  // namespace sg::model
