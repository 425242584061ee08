#pragma once
// Plain option structs for the generator and the renderer. The caller (train, render, eval)
// fills them from the curriculum; this folder never reads configuration files itself.
#include <cstdint>
#include <limits>
#include <string>

namespace sg::model {

// What the generator is made of (spec §2, §3.2, §11). Defaults: CelebA_ShadeGAN_view.
struct GeneratorConfig {
  int64_t z_dim = 256;
  int64_t hidden_dim = 256;      // SIREN width; the mapping network's hidden width stays 256
  int64_t map_hidden_dim = 256;
  bool shading = true;           // Lambertian shading and per-point normals
  bool view_condition = true;    // colour head sees the view direction
  bool light_condition = true;   // colour head sees the light 4-vector (only with shading)
  bool surf_track = true;        // owns the surface tracking net
  int64_t surface_nf = 16;       // ResDecoder nf (doubled once per octave above 64 px)
  int64_t surface_size = 128;    // ResDecoder output resolution
  // Ours (the curriculum's density_gain / density_bias; configs/README.md). The raw density is
  // density_gain x final_layer(x): Adam moves each weight about lr a step whatever its gradient,
  // so a gain g lets the density reach an opaque surface g times sooner. 1 = the reference.
  double density_gain = 1;
  // The density head's initial bias; NaN keeps the reference's U(+-1/sqrt(width)) draw, whose
  // sign decides whether a fresh generator starts as fog (> 0) or empty, dead space (< 0 under
  // relu: no gradient). Set after the reference's draws, so the random stream is unchanged.
  double density_bias = std::numeric_limits<double>::quiet_NaN();
  // Ours (the curriculum's siren_frequency_scale): every FiLM frequency (15 f + 30) times this.
  // The reference's frequencies put several sine periods across the object in the first layer
  // alone, and a run of minutes at 16 px never irons out the ripples they leave in the surface;
  // a smaller scale starts from a smoother field. 1 = the reference.
  double frequency_scale = 1;
  // Ours (shading_normals = "depth"): shade with the normals of the rendered depth map
  // (depth_normals.h) instead of the density gradient at every sample. false = the reference.
  bool depth_normals = false;

  // pi-GAN: no shading, view-conditioned colour, no surface net (spec §1.3 cP/kP/bP).
  static GeneratorConfig pigan();
};

// Density activation inside the integration (spec §4.5).
enum class ClampMode { relu, softplus };
ClampMode clamp_mode_from_name(const std::string& name);  // "relu" | "softplus"

// Camera distribution (spec §4.1). `fixed` is the reference's "anything else": the means.
enum class CameraDist { gaussian, uniform, hybrid, truncated_gaussian, spherical_uniform, fixed };
// Accepts gaussian, normal, uniform, hybrid, truncated_gaussian, spherical_uniform, fixed, none.
CameraDist camera_dist_from_name(const std::string& name);

struct CameraOptions {
  double h_mean = 1.5707963267948966;  // yaw mean (rad)
  double v_mean = 1.5707963267948966;  // pitch mean (rad)
  double h_stddev = 0.3;
  double v_stddev = 0.155;
  CameraDist dist = CameraDist::gaussian;
};

// Per-call rendering settings (the curriculum's metadata at one step, spec §2.7-2.8).
struct RenderOptions {
  int64_t img_size = 32;
  double fov = 12;  // degrees
  double ray_start = 0.88;
  double ray_end = 1.12;
  int64_t num_steps = 12;
  CameraOptions camera;
  bool hierarchical_sample = true;
  ClampMode clamp_mode = ClampMode::relu;
  double nerf_noise = 0;
  bool last_back = false;
  bool white_back = false;
  double delta = -1;  // surface-tracking band; <= 0 samples the whole [ray_start, ray_end]
  double l_ratio = 1;
  bool lock_view_dependence = false;
  bool rt_normal = false;  // normals even without shading
  double psi = 0.8;        // truncation (staged_forward only)
  int64_t max_batch_size = 50000;  // points per SIREN chunk in staged_forward

  // Reference-faithful waste (spec §12) versus the fast path. Both give the same pixels.
  // faithful_averages: redraw the 10 000 average latents on every staged_forward (consumes the
  //   RNG as the reference does); otherwise reuse the averages computed once per weights.
  bool faithful_averages = false;
  // faithful_normals: compute normals whenever shading is on, even where nothing uses them
  //   (l_ratio == 0 before step 5k); otherwise skip them there.
  bool faithful_normals = false;
};

}  // namespace sg::model
