#include "data/synth.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "config/toml_util.h"
#include "core/error.h"

namespace sg::data {
namespace {

constexpr double kPi = 3.14159265358979323846;
enum Stream : uint64_t { kShape = 0, kCamera = 1, kLight = 2 };

double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
double norm(const Vec3& a) { return std::sqrt(dot(a, a)); }
Vec3 normalized(const Vec3& v) {
  const double n = norm(v);
  return {v[0] / n, v[1] / n, v[2] / n};
}
Vec3 random_unit(Rng& rng) {
  const Vec3 v{rng.normal(), rng.normal(), rng.normal()};
  return normalized(v);
}

// A smooth bump on the sphere of directions: amp · exp((u·c − 1) / w²), ~Gaussian in the angle.
struct Bump {
  Vec3 c;
  double amp, inv_w2;
};

struct Wave {
  Vec3 f;
  double phase;
  Vec3 amp;
};

// A colour spot (pupils, lips): mixes the albedo toward `color` by weight·bump.
struct Spot {
  Vec3 c;
  double inv_w2, weight;
  Vec3 color;
};

// One object: a star-shaped surface r = R(u) around the origin, u the unit direction.
struct Shape {
  double ax, ay, az, e1, e2, scale = 1;
  std::vector<Bump> bumps;
  Vec3 base;
  std::vector<Wave> waves;
  std::vector<Spot> spots;
  double rmax = 0;

  double radius(const Vec3& u) const {
    // Superquadric radial function: the inside-outside function F scales as r^(2/e1).
    const double fx = std::pow(std::fabs(u[0]) / ax, 2 / e2), fz = std::pow(std::fabs(u[2]) / az, 2 / e2);
    const double fy = std::pow(std::fabs(u[1]) / ay, 2 / e1);
    const double F = std::pow(fx + fz, e2 / e1) + fy;
    double r = std::pow(F, -e1 / 2);
    double k = 1;
    for (const auto& b : bumps) {
      const double e = (dot(u, b.c) - 1) * b.inv_w2;
      if (e > -30) k += b.amp * std::exp(e);  // below, the bump is < 1e-13: skip the exp
    }
    return scale * r * k;
  }
  // Signed, positive outside.
  double g(const Vec3& p) const {
    const double n = norm(p);
    return n - radius({p[0] / n, p[1] / n, p[2] / n});
  }
  Vec3 albedo(const Vec3& u) const {
    Vec3 a = base;
    for (const auto& w : waves) {
      const double s = std::sin(dot(w.f, u) + w.phase);
      for (int c = 0; c < 3; ++c) a[c] += w.amp[c] * s;
    }
    for (const auto& sp : spots) {
      const double m = sp.weight * std::exp((dot(u, sp.c) - 1) * sp.inv_w2);
      for (int c = 0; c < 3; ++c) a[c] = a[c] * (1 - m) + sp.color[c] * m;
    }
    for (double& v : a) v = std::clamp(v, 0.02, 0.98);
    return a;
  }
};

Shape make_shape(uint64_t seed, int64_t index, const CameraDist& cam) {
  Rng rng(seed, static_cast<uint64_t>(index), kShape);
  Shape s;
  s.ax = rng.uniform(0.066, 0.080);
  s.ay = rng.uniform(0.078, 0.094);
  s.az = rng.uniform(0.066, 0.080);
  s.e1 = rng.uniform(0.6, 1.1);
  s.e2 = rng.uniform(0.6, 1.1);
  // The face looks along +z (toward the canonical camera at (0, 0, 1)).
  const Vec3 nose = normalized({0, -0.05, 1});
  const Vec3 eye_l = normalized({-0.33, 0.22, 0.92}), eye_r = normalized({0.33, 0.22, 0.92});
  const Vec3 mouth = normalized({0, -0.36, 0.93}), chin = normalized({0, -0.55, 0.83});
  s.bumps.push_back({nose, rng.uniform(0.12, 0.2), 1 / std::pow(rng.uniform(0.16, 0.22), 2)});
  const double eye_depth = rng.uniform(-0.07, -0.04);
  s.bumps.push_back({eye_l, eye_depth, 1 / (0.13 * 0.13)});
  s.bumps.push_back({eye_r, eye_depth, 1 / (0.13 * 0.13)});
  s.bumps.push_back({chin, rng.uniform(0.02, 0.06), 1 / (0.25 * 0.25)});
  for (int i = 0; i < 5; ++i)
    s.bumps.push_back({random_unit(rng), rng.uniform(-0.04, 0.04), 1 / std::pow(rng.uniform(0.3, 0.6), 2)});

  s.base = {rng.uniform(0.45, 0.9), rng.uniform(0.3, 0.7), rng.uniform(0.25, 0.6)};
  for (int i = 0; i < 4; ++i) {
    Wave w;
    const Vec3 d = random_unit(rng);
    const double f = rng.uniform(3, 8);
    w.f = {d[0] * f, d[1] * f, d[2] * f};
    w.phase = rng.uniform(0, 2 * kPi);
    w.amp = {rng.uniform(-0.07, 0.07), rng.uniform(-0.07, 0.07), rng.uniform(-0.07, 0.07)};
    s.waves.push_back(w);
  }
  const Vec3 iris{rng.uniform(0.05, 0.25), rng.uniform(0.05, 0.2), rng.uniform(0.05, 0.2)};
  s.spots.push_back({eye_l, 1 / 0.004, 0.85, iris});
  s.spots.push_back({eye_r, 1 / 0.004, 0.85, iris});
  s.spots.push_back({mouth, 1 / 0.006, rng.uniform(0.4, 0.7), {0.7, 0.2, 0.25}});

  // The largest radius over a dense set of directions (Fibonacci sphere) bounds the marching;
  // an object that would poke out of ray_start..ray_end (seen from distance 1) is scaled down.
  const int n = 4000;
  double rmax = 0;
  for (int i = 0; i < n; ++i) {
    const double y = 1 - 2 * (i + 0.5) / n, r = std::sqrt(1 - y * y), phi = i * 2.399963229728653;
    rmax = std::max(rmax, s.radius({r * std::cos(phi), y, r * std::sin(phi)}));
  }
  const double limit = 0.92 * std::min(1 - cam.ray_start, cam.ray_end - 1);
  if (rmax * 1.05 > limit) s.scale = limit / (rmax * 1.05);
  s.rmax = rmax * s.scale * 1.05;
  return s;
}

// First hit of the ray o + t·d with the surface inside [t0, t1], or -1.
double intersect(const Shape& s, const Vec3& o, const Vec3& d, double t0, double t1) {
  // Clip to the bounding sphere |o + t d| <= rmax.
  const double b = dot(o, d), c = dot(o, o) - s.rmax * s.rmax, disc = b * b - c;
  if (disc <= 0) return -1;
  const double q = std::sqrt(disc);
  t0 = std::max(t0, -b - q);
  t1 = std::min(t1, -b + q);
  if (t0 >= t1) return -1;
  auto at = [&](double t) { return Vec3{o[0] + t * d[0], o[1] + t * d[1], o[2] + t * d[2]}; };
  double t = t0, gt = s.g(at(t));
  if (gt < 0) return t0;  // cannot happen for objects inside the bound; be safe
  // Conservative marching on g (not an exact distance, so a fraction of it), then the
  // Illinois variant of regula falsi on the bracketing step, which converges in a few steps.
  while (t < t1) {
    const double step = std::max(0.5 * gt, 2e-4);
    const double tn = std::min(t + step, t1);
    const double gn = s.g(at(tn));
    if (gn < 0) {
      double a = t, ga = gt, b = tn, gb = gn;
      int side = 0;
      for (int i = 0; i < 30 && b - a > 1e-10; ++i) {
        const double c = (a * gb - b * ga) / (gb - ga);
        const double gc = s.g(at(c));
        if (gc >= 0) {
          a = c;
          ga = gc;
          if (side == -1) gb *= 0.5;
          side = -1;
        } else {
          b = c;
          gb = gc;
          if (side == 1) ga *= 0.5;
          side = 1;
        }
        if (std::fabs(gc) < 1e-12) return c;
      }
      return a - ga * (b - a) / (gb - ga);
    }
    if (tn >= t1) break;
    t = tn;
    gt = gn;
  }
  return -1;
}

Vec3 surface_normal(const Shape& s, const Vec3& p) {
  const double h = 1e-6;
  Vec3 n;
  for (int k = 0; k < 3; ++k) {
    Vec3 a = p, b = p;
    a[k] += h;
    b[k] -= h;
    n[k] = (s.g(a) - s.g(b)) / (2 * h);
  }
  return normalized(n);
}

uint8_t quantise(double v) { return static_cast<uint8_t>(std::clamp(v, 0.0, 1.0) * 255.0 + 0.5); }

}  // namespace

void validate(const SynthParams& p) {
  if (p.count < 1) throw ConfigError("synth: count must be >= 1");
  if (p.size < 4 || p.size > 1024) throw ConfigError("synth: size must be in 4..1024");
  validate(p.camera);
  cholesky4(p.prior.cov);
}

void shade_pixel(const uint8_t albedo[3], const float n[3], const std::array<float, 4>& l,
                 uint8_t out[3]) {
  const float ka = l[0] / 2 + 0.5f, kd = l[1] / 2 + 0.5f;
  const float len = std::sqrt(l[2] * l[2] + l[3] * l[3] + 1.0f) + 1e-7f;
  float diff = (n[0] * l[2] + n[1] * l[3] + n[2] * 1.0f) / len;
  diff = std::isnan(diff) ? 1.0f : std::clamp(diff, 0.0f, 1.0f);
  const float shade = ka + kd * diff;
  for (int c = 0; c < 3; ++c) {
    const float v = std::clamp(albedo[c] / 255.0f * shade, 0.0f, 1.0f);
    out[c] = static_cast<uint8_t>(v * 255.0f + 0.5f);
  }
}

SynthSample render_synth_sample(const SynthParams& p, int64_t index) {
  const Shape shape = make_shape(p.seed, index, p.camera);
  Rng cam_rng(p.seed, static_cast<uint64_t>(index), kCamera);
  Rng light_rng(p.seed, static_cast<uint64_t>(index), kLight);
  SynthSample s;
  s.pose = sample_pose(p.camera, cam_rng);
  const auto l = sample_light(p.prior, light_rng);
  for (int i = 0; i < 4; ++i) s.light[i] = static_cast<float>(l[i]);

  const int S = p.size;
  const size_t n = static_cast<size_t>(S) * S;
  s.rgb = Image(S, S);
  s.albedo = Image(S, S);
  s.depth.assign(n, static_cast<float>(p.camera.ray_end));
  s.normal.assign(n * 3, 0.0f);
  s.mask.assign(n, 0);
  const Vec3 o = camera_origin(s.pose);
  const auto R = cam2world_rotation(o);
  for (int r = 0; r < S; ++r)
    for (int c = 0; c < S; ++c) {
      const Vec3 d = rotate(R, camera_ray(r, c, S, p.camera.fov));
      const double t = intersect(shape, o, d, p.camera.ray_start, p.camera.ray_end);
      if (t < 0) continue;
      const size_t i = static_cast<size_t>(r) * S + c;
      const Vec3 x{o[0] + t * d[0], o[1] + t * d[1], o[2] + t * d[2]};
      const Vec3 nrm = surface_normal(shape, x);
      const Vec3 a = shape.albedo(normalized(x));
      s.mask[i] = 1;
      s.depth[i] = static_cast<float>(t);
      for (int k = 0; k < 3; ++k) {
        s.normal[i * 3 + k] = static_cast<float>(nrm[k]);
        s.albedo.rgb[i * 3 + k] = quantise(a[k]);
      }
      // Shade from exactly what is stored (uint8 albedo, float normal, float light), so the
      // stored ground truth reproduces the stored image.
      shade_pixel(&s.albedo.rgb[i * 3], &s.normal[i * 3], s.light, &s.rgb.rgb[i * 3]);
    }
  return s;
}

std::string synth_toml(const SynthParams& p) {
  std::string t = "# The synthetic dataset's parameters (datasets/README.md). Every sample is a pure\n"
                  "# function of these and its index.\n";
  t += fmt::format("generator_version = 1\ncount = {}\nsize = {}\nseed = {}\n\n", p.count, p.size, p.seed);
  const auto& c = p.camera;
  t += fmt::format("[camera]\nfov = {:.17g}\nray_start = {:.17g}\nray_end = {:.17g}\nh_mean = {:.17g}\n"
                   "v_mean = {:.17g}\nh_stddev = {:.17g}\nv_stddev = {:.17g}\nsample_dist = \"{}\"\n\n",
                   c.fov, c.ray_start, c.ray_end, c.h_mean, c.v_mean, c.h_stddev, c.v_stddev, c.sample_dist);
  t += fmt::format("[light_prior]\nmean = [{:.17g}, {:.17g}, {:.17g}, {:.17g}]\ncov = [", p.prior.mean[0],
                   p.prior.mean[1], p.prior.mean[2], p.prior.mean[3]);
  for (int i = 0; i < 4; ++i)
    t += fmt::format("{}[{:.17g}, {:.17g}, {:.17g}, {:.17g}]", i ? ", " : "", p.prior.cov[i * 4],
                     p.prior.cov[i * 4 + 1], p.prior.cov[i * 4 + 2], p.prior.cov[i * 4 + 3]);
  return t + "]\n";
}

SynthParams read_synth_toml(const std::string& path) {
  using namespace config;
  const toml::table t = parse_toml_file(path);
  check_keys(path, t, {"generator_version", "count", "size", "seed", "camera", "light_prior"}, "");
  SynthParams p;
  const int64_t version = get_int(path, t, "generator_version", "generator_version").value_or(0);
  if (version != 1)
    throw ConfigError(path + ": generator_version: expected 1 (this build's generator), got " +
                      std::to_string(version));
  auto need_int = [&](const toml::table& tb, const char* k) {
    auto v = get_int(path, tb, k, k);
    if (!v) throw ConfigError(path + ": missing key '" + std::string(k) + "'");
    return *v;
  };
  p.count = need_int(t, "count");
  p.size = static_cast<int>(need_int(t, "size"));
  p.seed = static_cast<uint64_t>(need_int(t, "seed"));
  const toml::table* cam = t["camera"].as_table();
  const toml::table* lp = t["light_prior"].as_table();
  if (!cam || !lp) throw ConfigError(path + ": needs [camera] and [light_prior] tables");
  check_keys(path, *cam, {"fov", "ray_start", "ray_end", "h_mean", "v_mean", "h_stddev", "v_stddev", "sample_dist"},
             "camera");
  auto need_d = [&](const char* k) {
    auto v = get_double(path, *cam, k, std::string("camera.") + k);
    if (!v) throw ConfigError(path + ": missing key 'camera." + std::string(k) + "'");
    return *v;
  };
  p.camera.fov = need_d("fov");
  p.camera.ray_start = need_d("ray_start");
  p.camera.ray_end = need_d("ray_end");
  p.camera.h_mean = need_d("h_mean");
  p.camera.v_mean = need_d("v_mean");
  p.camera.h_stddev = need_d("h_stddev");
  p.camera.v_stddev = need_d("v_stddev");
  p.camera.sample_dist = get_string(path, *cam, "sample_dist", "camera.sample_dist").value_or("");
  auto numbers = [&](const toml::node* n, size_t want, const std::string& key) {
    std::vector<double> out;
    const toml::array* a = n ? n->as_array() : nullptr;
    if (!a || a->size() != want) throw ConfigError(path + ": " + key + ": expected " + std::to_string(want) + " numbers");
    for (const auto& e : *a) out.push_back(e.value<double>().value_or(NAN));
    return out;
  };
  const auto m = numbers(lp->get("mean"), 4, "light_prior.mean");
  std::copy(m.begin(), m.end(), p.prior.mean.begin());
  const toml::array* rows = lp->get("cov") ? lp->get("cov")->as_array() : nullptr;
  if (!rows || rows->size() != 4) throw ConfigError(path + ": light_prior.cov: expected 4 rows");
  for (size_t i = 0; i < 4; ++i) {
    const auto r = numbers(rows->get(i), 4, "light_prior.cov");
    std::copy(r.begin(), r.end(), p.prior.cov.begin() + i * 4);
  }
  validate(p);
  return p;
}

}  // namespace sg::data
