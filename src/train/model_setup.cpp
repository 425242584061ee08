#include "train/model_setup.h"

#include <algorithm>

namespace sg::train {

model::GeneratorConfig generator_config(const config::Globals& g) {
  model::GeneratorConfig c;
  c.z_dim = g.latent_dim;
  c.hidden_dim = g.siren_hidden_dim;
  c.map_hidden_dim = g.mapping_hidden_dim;
  c.shading = g.shading;
  c.view_condition = g.view_condition;
  c.light_condition = g.light_condition;
  c.surf_track = g.surf_track;
  c.surface_nf = g.surf_nf;
  c.surface_size = g.surf_size;
  c.density_gain = g.density_gain;
  c.frequency_scale = g.siren_frequency_scale;
  if (g.density_bias) c.density_bias = *g.density_bias;
  c.depth_normals = g.shading_normals == "depth";
  return c;
}

model::TrackingSchedule tracking_schedule(const config::Globals& g) {
  model::TrackingSchedule t;
  if (!g.surf_schedule) return t;
  const auto& s = *g.surf_schedule;
  t.start_step = s.start_step;
  t.beta = s.beta;
  t.delta_max = s.delta_max;
  t.delta_min = s.delta_min;
  t.num_steps_max = s.num_steps_max;
  t.num_steps_min = s.num_steps_min;
  return t;
}

namespace {

// Everything that does not depend on the step.
model::RenderOptions base_options(const config::Globals& g, const config::Stage& st) {
  model::RenderOptions o;
  o.img_size = st.img_size;
  o.fov = g.fov;
  o.ray_start = g.ray_start;
  o.ray_end = g.ray_end;
  o.num_steps = st.num_steps;
  o.camera.h_mean = g.h_mean;
  o.camera.v_mean = g.v_mean;
  o.camera.h_stddev = g.h_stddev;
  o.camera.v_stddev = g.v_stddev;
  o.camera.dist = model::camera_dist_from_name(g.sample_dist);
  o.hierarchical_sample = g.hierarchical_sample;
  o.clamp_mode = model::clamp_mode_from_name(g.clamp_mode);
  o.last_back = g.last_back;
  o.white_back = g.white_back;
  o.lock_view_dependence = g.lock_view_dependence;
  o.rt_normal = g.rt_normal;
  o.psi = g.psi;
  o.max_batch_size = g.max_batch_size;
  o.l_ratio = g.l_ratio;
  o.delta = -1;
  return o;
}

}  // namespace

model::RenderOptions training_render_options(const config::Resolved& r) {
  const config::Globals& g = r.globals;
  model::RenderOptions o = base_options(g, r.stage);
  o.nerf_noise = std::max(0.0, 1.0 - double(r.step) / double(g.nerf_noise_steps));
  o.l_ratio = model::light_ratio(r.step, g.l_ratio_start, g.l_ratio_start + g.l_ratio_steps);
  if (g.surf_track) {
    const model::TrackingStep t = model::rendering_scheduler(r.step, tracking_schedule(g));
    o.delta = t.delta;
    o.num_steps = t.num_steps;
  }
  return o;
}

double lr_ratio(const config::Resolved& r) {
  if (!r.globals.surf_track) return 1.0;
  const model::TrackingSchedule s = tracking_schedule(r.globals);
  return double(model::rendering_scheduler(r.step, s).num_steps) / double(s.num_steps_max);
}

model::RenderOptions inference_render_options(const config::Curriculum& c, int64_t trained_step) {
  const config::Resolved r0 = c.at(0);
  model::RenderOptions o = base_options(r0.globals, r0.stage);
  o.nerf_noise = 0;
  if (r0.globals.surf_track) {
    const model::TrackingStep t =
        model::rendering_scheduler(trained_step, tracking_schedule(r0.globals));
    o.delta = t.delta;
    o.num_steps = t.num_steps;
  }
  return o;
}

}  // namespace sg::train
