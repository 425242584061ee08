#pragma once
// From a curriculum to the model's option structs: the one place where curriculum keys become
// GeneratorConfig and RenderOptions, for training (the per-step schedules of spec §6.3) and for
// inference (render, extract, eval: spec §8-10, "metadata at step 0" plus the caller's
// overrides). model/ never reads configuration; train, render and eval all call these.
#include <cstdint>

#include "config/curriculum.h"
#include "model/options.h"
#include "model/render_schedule.h"

namespace sg::train {

// latent_dim, siren_hidden_dim, mapping_hidden_dim, shading, view/light_condition, surf_track,
// surf_nf, surf_size.
model::GeneratorConfig generator_config(const config::Globals& g);

// The rendering scheduler's settings (spec §3.3); defaults when the curriculum has none.
model::TrackingSchedule tracking_schedule(const config::Globals& g);

// What the trainer renders with at `r.step` (spec §6.2 steps 1-2): the stage's img_size and
// num_steps, the camera of the training distribution, nerf_noise = max(0, 1 - s/nerf_noise_steps),
// l_ratio from the warm-up (l_ratio_start, l_ratio_steps), and with surf_track the scheduler's
// (delta, N) replacing num_steps; without it delta = -1.
model::RenderOptions training_render_options(const config::Resolved& r);

// gen LR multiplier of the rendering scheduler: N / num_steps_max with surf_track, else 1.
double lr_ratio(const config::Resolved& r);

// Inference defaults (render.py / eval_metrics.py): the curriculum at step 0, nerf_noise 0,
// l_ratio and psi from the globals, and with surf_track the scheduler's (delta, N) at
// `trained_step` (what a checkpoint of that step was trained with, as the released deltas are);
// without surf_track delta = -1 and the stage-0 num_steps. Callers then override img_size,
// psi, num_steps, delta, camera, as their options say.
model::RenderOptions inference_render_options(const config::Curriculum& c, int64_t trained_step);

}  // namespace sg::train
