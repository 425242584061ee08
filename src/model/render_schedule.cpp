#include "model/render_schedule.h"

#include <algorithm>
#include <cfenv>
#include <cmath>

namespace sg::model {

TrackingStep rendering_scheduler(int64_t step, const TrackingSchedule& s) {
  if (step <= s.start_step) return {-1.0, s.num_steps_max};
  const double e = std::exp(-static_cast<double>(step - s.start_step) * s.beta);
  const double delta = (s.delta_max - s.delta_min) * e + s.delta_min;
  const double n = static_cast<double>(s.num_steps_max - s.num_steps_min) * e +
                   static_cast<double>(s.num_steps_min);
  // Python's round(): half to even. nearbyint uses the current mode; make it explicit.
  const int old = std::fegetround();
  std::fesetround(FE_TONEAREST);
  const double r = std::nearbyint(n);
  std::fesetround(old);
  return {delta, static_cast<int64_t>(r)};
}

double light_ratio(int64_t step, int64_t start, int64_t end) {
  const double f = static_cast<double>(step - start) / static_cast<double>(end - start);
  return std::min(std::max(f, 0.0), 1.0);
}

}  // namespace sg::model
