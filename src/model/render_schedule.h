#pragma once
// The rendering scheduler of surface tracking (spec §3.3): the sampling band delta and the
// sample count N at a training step.
#include <cstdint>

namespace sg::model {

struct TrackingSchedule {
  int64_t start_step = 5000;
  double beta = 3e-5;
  double delta_max = 0.24;
  double delta_min = 0.06;
  int64_t num_steps_max = 12;
  int64_t num_steps_min = 6;
};

struct TrackingStep {
  double delta;       // -1 up to start_step (no tracking: the full ray)
  int64_t num_steps;  // replaces the stage's num_steps
};

// e = exp(-beta (s - start)); delta = (max - min) e + min; N = round-half-even((Nmax - Nmin) e + Nmin).
TrackingStep rendering_scheduler(int64_t step, const TrackingSchedule& s);

// act_scheduler: l_ratio = clamp((step - start) / (end - start), 0, 1) (spec §2.5).
double light_ratio(int64_t step, int64_t start = 5000, int64_t end = 7000);

}  // namespace sg::model
