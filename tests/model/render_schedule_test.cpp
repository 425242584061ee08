#include "model/render_schedule.h"

#include <doctest/doctest.h>

#include <cmath>
#include <initializer_list>

using namespace sg::model;

TEST_CASE("rendering_scheduler gives the CelebA values of spec 3.3") {
  TrackingSchedule s;  // CelebA: start 5000, beta 3e-5, delta 0.24..0.06, N 12..6
  struct Row { int64_t step; double delta; int64_t n; };
  for (Row r : {Row{10000, 0.2149, 11}, Row{30000, 0.1450, 9}, Row{70000, 0.0856, 7},
                Row{100000, 0.0704, 6}, Row{130000, 0.06423, 6}}) {
    TrackingStep t = rendering_scheduler(r.step, s);
    CAPTURE(r.step);
    CHECK(t.delta == doctest::Approx(r.delta).epsilon(5e-4));
    CHECK(t.num_steps == r.n);
  }
  // The released models' deltas (spec 1.4).
  CHECK(rendering_scheduler(130000, s).delta == doctest::Approx(0.064233).epsilon(1e-5));
  CHECK(rendering_scheduler(125000, s).delta == doctest::Approx(0.064918).epsilon(1e-5));
}

TEST_CASE("rendering_scheduler does not track up to start_step") {
  TrackingSchedule s;
  for (int64_t step : {0, 4999, 5000}) {
    TrackingStep t = rendering_scheduler(step, s);
    CHECK(t.delta == -1);
    CHECK(t.num_steps == 12);
  }
  CHECK(rendering_scheduler(5001, s).delta < 0.24);
}

TEST_CASE("rendering_scheduler rounds half to even, as Python's round") {
  // beta = ln 2 and one step past the start: e = 1/2, so N = (Nmax - Nmin)/2 + Nmin.
  TrackingSchedule s;
  s.start_step = 0;
  s.beta = std::log(2.0);
  REQUIRE(std::exp(-s.beta) == 0.5);
  s.num_steps_max = 3;  // 2.5 -> 2
  s.num_steps_min = 2;
  CHECK(rendering_scheduler(1, s).num_steps == 2);
  s.num_steps_max = 4;  // 3.5 -> 4
  s.num_steps_min = 3;
  CHECK(rendering_scheduler(1, s).num_steps == 4);
  s.num_steps_max = 12;  // 7.5 -> 8
  s.num_steps_min = 3;
  CHECK(rendering_scheduler(1, s).num_steps == 8);
}

TEST_CASE("light_ratio ramps from 5k to 7k") {
  CHECK(light_ratio(0) == 0);
  CHECK(light_ratio(5000) == 0);
  CHECK(light_ratio(6000) == 0.5);
  CHECK(light_ratio(7000) == 1);
  CHECK(light_ratio(150000) == 1);
}
