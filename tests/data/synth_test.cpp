#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/synth.h"

using namespace sg::data;

static SynthParams small() {
  SynthParams p;
  p.count = 16;
  p.size = 48;
  p.seed = 7;
  return p;
}

TEST_CASE("a sample depends on (seed, index) only") {
  const SynthParams p = small();
  const SynthSample a = render_synth_sample(p, 5), b = render_synth_sample(p, 5);
  CHECK(a.rgb.rgb == b.rgb.rgb);
  CHECK(a.depth == b.depth);
  CHECK(render_synth_sample(p, 6).rgb.rgb != a.rgb.rgb);
  SynthParams q = p;
  q.seed = 8;
  CHECK(render_synth_sample(q, 5).rgb.rgb != a.rgb.rgb);
  q = p;
  q.count = 1000;  // the count does not change sample 5
  CHECK(render_synth_sample(q, 5).rgb.rgb == a.rgb.rgb);
}

TEST_CASE("objects sit inside ray_start..ray_end and fill a sensible part of the frame") {
  const SynthParams p = small();
  for (int i = 0; i < 6; ++i) {
    const SynthSample s = render_synth_sample(p, i);
    int fg = 0;
    for (size_t k = 0; k < s.mask.size(); ++k) {
      if (!s.mask[k]) {
        CHECK(s.depth[k] == doctest::Approx(p.camera.ray_end));
        continue;
      }
      ++fg;
      CHECK(s.depth[k] > p.camera.ray_start);
      CHECK(s.depth[k] < p.camera.ray_end);
    }
    const double frac = static_cast<double>(fg) / s.mask.size();
    CHECK(frac > 0.2);
    CHECK(frac < 0.95);
  }
}

TEST_CASE("re-shading the stored albedo, normals and light reproduces the stored RGB") {
  // An independent implementation of spec §2.5 in double precision.
  const SynthParams p = small();
  int64_t total = 0, exact = 0, off_by_more = 0;
  for (int i = 0; i < 4; ++i) {
    const SynthSample s = render_synth_sample(p, i);
    const double ka = s.light[0] / 2.0 + 0.5, kd = s.light[1] / 2.0 + 0.5;
    const double n = std::sqrt(s.light[2] * s.light[2] + s.light[3] * s.light[3] + 1.0);
    const double L[3] = {s.light[2] / n, s.light[3] / n, 1 / n};
    for (size_t k = 0; k < s.mask.size(); ++k) {
      if (!s.mask[k]) continue;
      const float* nn = &s.normal[k * 3];
      const double diff = std::clamp(nn[0] * L[0] + nn[1] * L[1] + nn[2] * L[2], 0.0, 1.0);
      for (int c = 0; c < 3; ++c) {
        const double v = std::clamp(s.albedo.rgb[k * 3 + c] / 255.0 * (ka + kd * diff), 0.0, 1.0);
        const int want = static_cast<int>(std::floor(v * 255 + 0.5));
        const int got = s.rgb.rgb[k * 3 + c];
        ++total;
        exact += want == got;
        off_by_more += std::abs(want - got) > 1;
      }
    }
  }
  CHECK(total > 1000);
  CHECK(off_by_more == 0);
  CHECK(exact > total * 99 / 100);
}

TEST_CASE("normals agree with finite differences of the depth map on smooth interior pixels") {
  const SynthParams p = small();
  const int S = p.size;
  const SynthSample s = render_synth_sample(p, 3);
  const Vec3 o = camera_origin(s.pose);
  const auto R = cam2world_rotation(o);
  auto point = [&](int r, int c) {
    const Vec3 d = rotate(R, camera_ray(r, c, S, p.camera.fov));
    const double t = s.depth[static_cast<size_t>(r) * S + c];
    return Vec3{o[0] + t * d[0], o[1] + t * d[1], o[2] + t * d[2]};
  };
  int checked = 0, agree = 0;
  for (int r = 2; r < S - 2; ++r)
    for (int c = 2; c < S - 2; ++c) {
      bool interior = true;
      for (int dr = -2; dr <= 2; ++dr)
        for (int dc = -2; dc <= 2; ++dc) interior = interior && s.mask[static_cast<size_t>(r + dr) * S + c + dc];
      if (!interior) continue;
      const Vec3 a = point(r, c + 1), b = point(r, c - 1), u = point(r - 1, c), v = point(r + 1, c);
      const Vec3 dx{a[0] - b[0], a[1] - b[1], a[2] - b[2]}, dy{u[0] - v[0], u[1] - v[1], u[2] - v[2]};
      Vec3 n{dx[1] * dy[2] - dx[2] * dy[1], dx[2] * dy[0] - dx[0] * dy[2], dx[0] * dy[1] - dx[1] * dy[0]};
      const double len = std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
      const float* g = &s.normal[(static_cast<size_t>(r) * S + c) * 3];
      double cosang = (n[0] * g[0] + n[1] * g[1] + n[2] * g[2]) / len;
      ++checked;
      // Facing the camera: the finite-difference normal is oriented toward it (dx right, dy up).
      agree += cosang > std::cos(10 * M_PI / 180);
    }
  CHECK(checked > 200);
  CHECK(agree > checked * 9 / 10);
}

TEST_CASE("the camera follows the curriculum's distribution (spec 4.1)") {
  CameraDist d;  // CelebA: gaussian, yaw sd 0.3, pitch sd 0.155
  double sy = 0, syy = 0, sp = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    Rng rng(3, static_cast<uint64_t>(i), 1);
    const Pose p = sample_pose(d, rng);
    sy += p.yaw;
    syy += (p.yaw - d.h_mean) * (p.yaw - d.h_mean);
    sp += p.pitch;
  }
  CHECK(sy / n == doctest::Approx(d.h_mean).epsilon(0.005));
  CHECK(std::sqrt(syy / n) == doctest::Approx(0.3).epsilon(0.03));
  CHECK(sp / n == doctest::Approx(d.v_mean).epsilon(0.005));
  d.sample_dist = "uniform";  // Cats: ±0.5 / ±0.4
  d.h_stddev = 0.5;
  d.v_stddev = 0.4;
  for (int i = 0; i < 2000; ++i) {
    Rng rng(3, static_cast<uint64_t>(i), 1);
    const Pose p = sample_pose(d, rng);
    CHECK(std::fabs(p.yaw - d.h_mean) <= 0.5);
    CHECK(std::fabs(p.pitch - d.v_mean) <= 0.4);
  }
  d.sample_dist = "fixed";
  Rng rng(0, 0, 1);
  const Pose f = sample_pose(d, rng);
  CHECK(f.yaw == d.h_mean);
  const Vec3 o = camera_origin(f);  // (π/2, π/2) -> (0, 0, 1)
  CHECK(o[2] == doctest::Approx(1.0));
  CHECK(std::fabs(o[0]) < 1e-12);
  d.sample_dist = "gausian";
  CHECK_THROWS_WITH_AS(validate(d), doctest::Contains("did you mean 'gaussian'"), sg::ConfigError);
}

TEST_CASE("light prior: samples have the prior's mean and covariance, and TOML round trips") {
  const LightPrior prior = default_light_prior();
  double mean[4] = {0, 0, 0, 0}, cov[16] = {0};
  const int n = 20000;
  std::vector<std::array<double, 4>> xs;
  for (int i = 0; i < n; ++i) {
    Rng rng(1, static_cast<uint64_t>(i), 2);
    xs.push_back(sample_light(prior, rng));
    for (int k = 0; k < 4; ++k) mean[k] += xs.back()[k] / n;
  }
  for (const auto& x : xs)
    for (int a = 0; a < 4; ++a)
      for (int b = 0; b < 4; ++b) cov[a * 4 + b] += (x[a] - mean[a]) * (x[b] - mean[b]) / (n - 1);
  for (int k = 0; k < 4; ++k) CHECK(std::fabs(mean[k] - prior.mean[k]) < 0.01);
  for (int k = 0; k < 16; ++k) CHECK(std::fabs(cov[k] - prior.cov[k]) < 0.06 * std::sqrt(prior.cov[(k / 4) * 5] * prior.cov[(k % 4) * 5]) + 1e-4);

  const std::string dir = std::string(std::getenv("SG_TEST_TMP") ? std::getenv("SG_TEST_TMP") : "/tmp") + "/synth_test";
  sg::write_file_atomic(dir + "/prior.toml", light_prior_toml(prior, "test"));
  const LightPrior back = read_light_prior_toml(dir + "/prior.toml");
  CHECK(back.mean == prior.mean);
  CHECK(back.cov == prior.cov);
  SynthParams p = small();
  p.camera.sample_dist = "hybrid";
  sg::write_file_atomic(dir + "/synth.toml", synth_toml(p));
  const SynthParams q = read_synth_toml(dir + "/synth.toml");
  CHECK(synth_toml(q) == synth_toml(p));
  sg::write_file_atomic(dir + "/bad.toml", "mean = [1, 2, 3]\ncov = []\n");
  CHECK_THROWS_WITH_AS(read_light_prior_toml(dir + "/bad.toml"), doctest::Contains("bad.toml"), sg::ConfigError);
}
