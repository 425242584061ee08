#include "model/generator.h"

#include <torch/autograd.h>

#include <cmath>
#include <functional>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/block_cache.h"
#include "model/camera.h"
#include "model/depth_normals.h"
#include "model/shading.h"
#include "model/volume.h"

namespace sg::model {

namespace {

using SirenEval = std::function<PointOutputs(const at::Tensor& points, const at::Tensor& dirs)>;

enum class Mode { training, staged };

void reshape_points(PointOutputs& p, int64_t B, int64_t R, int64_t N) {
  p.sigma = p.sigma.reshape({B, R, N, -1});
  p.rgb = p.rgb.reshape({B, R, N, -1});
  if (p.normal.defined()) p.normal = p.normal.reshape({B, R, N, -1});
}

at::Tensor gather_sorted(const at::Tensor& fine, const at::Tensor& coarse, const at::Tensor& idx) {
  at::Tensor all = at::cat({fine, coarse}, -2);
  return at::gather(all, -2, idx.expand({-1, -1, -1, all.size(-1)}));
}

CameraSample camera_for(int64_t B, const RenderOptions& opt, Draws& draws, const at::Tensor& pose,
                        const at::TensorOptions& fopts) {
  at::NoGradGuard g;
  if (!pose.defined()) return sample_camera(B, opt.camera, draws, fopts);
  if (pose.dim() != 2 || pose.size(0) != B || pose.size(1) != 2) {
    throw StageError("pose must have shape (" + std::to_string(B) + ", 2), got " +
                     c10::str(pose.sizes()));
  }
  at::Tensor p = pose.to(fopts.device_opt().value_or(at::kCPU), fopts.dtype().toScalarType());
  CameraSample c;
  c.pitch = p.slice(1, 0, 1);
  c.yaw = p.slice(1, 1, 2);
  c.origin = pose_to_origin(c.pitch, c.yaw);
  return c;
}

// surfacenet(codes / 10, (pose - pi/2) * 10) channel 0 mapped to a distance along the ray.
at::Tensor predict_depth(ResDecoder& net, const at::Tensor& freq, const at::Tensor& phase,
                         const CameraSample& cam, const RenderOptions& opt) {
  at::Tensor pose_scaled = (at::cat({cam.pitch, cam.yaw}, -1) - M_PI / 2) * 10;
  at::Tensor codes = at::cat({freq, phase}, -1) / 10;
  at::Tensor d = net->forward(codes, pose_scaled).select(1, 0);
  return opt.ray_start + d * (opt.ray_end - opt.ray_start);
}

// The surface-tracking band's centre per pixel (spec §3.4): the predicted depth resized to the
// image, clamped so that the band stays inside [ray_start, ray_end]; (B, S, S).
at::Tensor band_depth(const at::Tensor& depth_pred, int64_t S, const RenderOptions& opt) {
  at::Tensor depth = resize_map(depth_pred.detach(), S);
  at::Tensor delta = at::ones_like(depth) * opt.delta;
  depth = at::max(depth, opt.ray_start + delta / 2);
  return at::min(depth, opt.ray_end - delta / 2);
}

bool tracks_surface(const at::Tensor& depth_pred, const RenderOptions& opt) {
  return depth_pred.defined() && opt.delta > 0;
}

// What marching a set of rays leaves (spec §2.7 steps 3-6).
struct Marched {
  Integrated res;               // the final integration (fine + coarse samples when hierarchical)
  at::Tensor z_vals;            // (B, R, N, 1) perturbed coarse distances
  at::Tensor fine_z_vals;       // (B*R, N) importance-sampled distances, when hierarchical
  at::Tensor coarse_depth_std;  // (B, R, 1), when hierarchical
};

// Coarse pass, importance sampling, fine pass and integration of the perturbed world-space
// rays `w` (B, R, N). Draws, in this order: [coarse noise, pdf uniforms when hierarchical], final
// noise.
Marched march(const WorldRays& w, const RenderOptions& opt, Draws& draws, const SirenEval& eval) {
  const int64_t B = w.points.size(0), R = w.points.size(1), N = w.points.size(2);
  at::Tensor points, dirs;
  {
    at::NoGradGuard g;
    dirs = w.dirs.unsqueeze(-2).expand({-1, -1, N, -1}).reshape({B, R * N, 3});
    points = w.points.reshape({B, R * N, 3});
    if (opt.lock_view_dependence) {
      dirs = at::zeros_like(dirs);
      dirs.select(-1, 2).fill_(-1);
    }
  }

  PointOutputs coarse = eval(points, dirs);
  reshape_points(coarse, B, R, N);

  Marched m;
  m.z_vals = w.z_vals;
  PointOutputs all = coarse;
  at::Tensor all_z = w.z_vals;
  if (opt.hierarchical_sample) {
    at::Tensor fine_points, fine_z;
    {
      at::NoGradGuard g;
      IntegrateOptions io;
      io.noise_std = opt.nerf_noise;
      io.clamp_mode = opt.clamp_mode;
      Integrated ci = integrate(coarse, w.z_vals, io, draws);
      m.coarse_depth_std = ci.depth_std;
      at::Tensor weights = ci.weights.reshape({B * R, N}) + 1e-5;
      at::Tensor z = w.z_vals.reshape({B * R, N});
      at::Tensor mids = 0.5 * (z.slice(1, 0, -1) + z.slice(1, 1));
      m.fine_z_vals = sample_pdf(mids, weights.slice(1, 1, -1), N, false, draws).detach();
      fine_z = m.fine_z_vals.reshape({B, R, N, 1});
      fine_points = (w.origins.unsqueeze(2) + w.dirs.unsqueeze(2) * fine_z.expand({-1, -1, -1, 3}))
                        .reshape({B, R * N, 3});
    }
    PointOutputs fine = eval(fine_points, dirs);
    reshape_points(fine, B, R, N);
    at::Tensor zcat = at::cat({fine_z, w.z_vals}, -2);
    at::Tensor idx = std::get<1>(at::sort(zcat, -2));
    all_z = at::gather(zcat, -2, idx);
    all.sigma = gather_sorted(fine.sigma, coarse.sigma, idx);
    all.rgb = gather_sorted(fine.rgb, coarse.rgb, idx);
    if (coarse.normal.defined()) all.normal = gather_sorted(fine.normal, coarse.normal, idx);
  }

  IntegrateOptions fo;
  fo.noise_std = opt.nerf_noise;
  fo.clamp_mode = opt.clamp_mode;
  fo.last_back = opt.last_back;
  fo.white_back = opt.white_back;
  m.res = integrate(all, all_z, fo, draws);
  return m;
}

// Shading and the output layout of either mode from the whole image's marched rays (B, S*S).
GeneratorOutput finish(const GeneratorConfig& cfg, int64_t B, int64_t S, const at::Tensor& light,
                       const RenderOptions& opt, const Marched& m, const CameraSample& cam,
                       const at::Tensor& depth_pred, Mode mode) {
  const Integrated& res = m.res;
  GeneratorOutput out;
  out.z_vals = m.z_vals;
  out.fine_z_vals = m.fine_z_vals;
  at::Tensor rgb = res.rgb;
  at::Tensor normal = res.normal;
  if (cfg.shading && cfg.depth_normals) normal = depth_map_normals(res.depth, S, opt.fov, cam.origin);
  if (cfg.shading) {
    Shaded s = lambertian(res.rgb, normal, light, opt.l_ratio);
    out.albedo = res.rgb;
    rgb = s.rgb;
    out.shading = s.shading;
  }
  auto image = [&](const at::Tensor& t) {
    return t.reshape({B, S, S, 3}).permute({0, 3, 1, 2}).contiguous() * 2 - 1;
  };
  out.rgb = image(rgb);
  if (normal.defined()) {
    out.normal = normal.reshape({B, S, S, 3}).permute({0, 3, 1, 2}).contiguous();
  }
  if (res.normal.defined())
    out.density_normal =
        res.normal.is_same(normal) ? out.normal : res.normal.reshape({B, S, S, 3}).permute({0, 3, 1, 2}).contiguous();
  out.weights = res.weights;
  out.pose = at::cat({cam.pitch, cam.yaw}, -1);
  out.depth_pred = depth_pred;
  if (mode == Mode::training) {
    // The coarse pass's depth_std (spec §2.7); both maps resized to the surface net's size.
    at::Tensor dstd = m.coarse_depth_std.defined() ? m.coarse_depth_std : res.depth_std;
    out.depth = res.depth.reshape({B, S, S}).contiguous();
    out.depth_std = dstd.reshape({B, S, S}).contiguous();
    if (depth_pred.defined()) {
      out.depth = resize_map(out.depth, depth_pred.size(-1));
      out.depth_std = resize_map(out.depth_std, depth_pred.size(-1));
    }
  } else {
    if (out.albedo.defined()) out.albedo = image(out.albedo);
    if (out.shading.defined()) out.shading = out.shading.reshape({B, S, S}).contiguous();
    out.depth = res.depth.reshape({B, S, S}).contiguous();
    out.depth_std = res.depth_std;
  }
  out.depth = out.depth.clamp(opt.ray_start, opt.ray_end);
  return out;
}

// The training forward after the camera and the surface net: every ray of the batch at once.
GeneratorOutput render(const GeneratorConfig& cfg, int64_t B, const at::Tensor& light,
                       const RenderOptions& opt, Draws& draws, const CameraSample& cam,
                       const at::Tensor& depth_pred, const SirenEval& eval) {
  const int64_t S = opt.img_size, N = opt.num_steps;
  WorldRays w;
  {
    at::NoGradGuard g;
    Rays rays;
    if (tracks_surface(depth_pred, opt)) {
      rays = rays_from_depth(N, band_depth(depth_pred, S, opt), opt.delta, opt.fov);
    } else {
      rays = initial_rays(B, N, S, opt.fov, opt.ray_start, opt.ray_end, cam.origin.options());
    }
    w = transform_sampled_points(rays, cam.origin, draws);
  }
  Marched m = march(w, opt, draws, eval);
  return finish(cfg, B, S, light, opt, m, cam, depth_pred, Mode::training);
}

// ---- staged_forward in tiles of rays (issue #8) ----

// The random draws of a whole image, in the order and shapes march() takes them when it is given
// every ray at once (the untiled render), so that slicing them per tile replays that stream.
struct ImageDraws {
  at::Tensor perturbation;  // (B, R, N, 1) uniform
  at::Tensor coarse_noise;  // (B, R, N, 1) standard normal; undefined at nerf_noise 0
  at::Tensor pdf_uniform;   // (B, R, N), when hierarchical
  at::Tensor final_noise;   // (B, R, K, 1) standard normal; undefined at nerf_noise 0
};

ImageDraws draw_image(int64_t B, int64_t R, const RenderOptions& opt, Draws& draws,
                      const at::TensorOptions& fopts) {
  const int64_t N = opt.num_steps, K = opt.hierarchical_sample ? 2 * N : N;
  // At nerf_noise 0 the density noise only advances the stream: noise * 0 is a signed zero, and
  // sigma + (+-0) differs from sigma + 0 at most in the sign of a zero density, which gives the
  // same alpha. So it is drawn (same stream, same fixed queues) and dropped instead of being kept
  // for every sample of the image; tiles get zeros.
  const bool noisy = opt.nerf_noise != 0;
  ImageDraws d;
  d.perturbation = draws.uniform(Draw::perturbation, {B, R, N, 1}, fopts);
  if (opt.hierarchical_sample) {
    at::Tensor coarse = draws.normal(Draw::nerf_noise, {B, R, N, 1}, fopts);
    if (noisy) d.coarse_noise = coarse;
    d.pdf_uniform = draws.uniform(Draw::pdf_uniform, {B * R, N}, fopts).reshape({B, R, N});
  }
  at::Tensor fin = draws.normal(Draw::nerf_noise, {B, R, K, 1}, fopts);
  if (noisy) d.final_noise = fin;
  return d;
}

// Queues in `t` the slices of `d` march() takes for rays [r0, r1) of batch element b, in its
// order. Returns how many; march() must take exactly these (checked by the caller).
size_t queue_tile_draws(Draws& t, const ImageDraws& d, int64_t b, int64_t r0, int64_t r1,
                        const RenderOptions& opt) {
  const int64_t T = r1 - r0, N = opt.num_steps, K = opt.hierarchical_sample ? 2 * N : N;
  auto cut = [&](const at::Tensor& x) { return x.slice(0, b, b + 1).slice(1, r0, r1); };
  auto noise = [&](const at::Tensor& x, int64_t k) {
    return x.defined() ? cut(x) : at::zeros({1, T, k, 1}, d.perturbation.options());
  };
  if (opt.hierarchical_sample) {
    t.push(Draw::nerf_noise, noise(d.coarse_noise, N));
    t.push(Draw::pdf_uniform, cut(d.pdf_uniform).reshape({T, N}));
  }
  t.push(Draw::nerf_noise, noise(d.final_noise, K));
  return opt.hierarchical_sample ? 3 : 1;
}

// Camera-space rays of pixels [r0, r1) of batch element b (1, T, N): initial_rays, or
// rays_from_depth around `depth` (B, R) when defined. The arithmetic is theirs, element for
// element, so a tile's samples are bitwise those of the whole image.
Rays pixel_rays(const at::Tensor& dirs_all, const at::Tensor& depth, int64_t b, int64_t r0,
                int64_t r1, const RenderOptions& opt) {
  const int64_t T = r1 - r0, N = opt.num_steps;
  const auto opts = dirs_all.options();
  at::Tensor d = dirs_all.slice(0, r0, r1);
  if (!depth.defined()) {
    at::Tensor z = at::linspace(opt.ray_start, opt.ray_end, N, opts).reshape({1, N, 1}).repeat({T, 1, 1});
    at::Tensor points = d.unsqueeze(1).repeat({1, N, 1}) * z;
    return {points.unsqueeze(0), z.unsqueeze(0), d.unsqueeze(0)};
  }
  at::Tensor dt = depth.slice(0, b, b + 1).slice(1, r0, r1);  // (1, T)
  at::Tensor delta_t = at::ones_like(dt) * opt.delta;
  at::Tensor z = at::linspace(-1, 1, N, opts).reshape({1, 1, N, 1}).repeat({1, T, 1, 1});
  z = z * (delta_t / 2).reshape({1, T, 1, 1}) + dt.reshape({1, T, 1, 1});
  at::Tensor points = d.unsqueeze(0).unsqueeze(2).repeat({1, 1, N, 1}) * z;
  return {points, z, d.unsqueeze(0)};
}

// R v (+ the translation) for v (..., 3) and a camera-to-world matrix m (4, 4), one product
// and sum at a time in the order of the reference GEMM (k ascending from 0, no fused
// multiply-add). A BLAS bmm over a tile's points would round by the tile's shape (OpenBLAS
// does); this gives every point the same value whatever the tile, and bitwise the reference
// BLAS's bmm of transform_sampled_points.
at::Tensor rigid(const at::Tensor& m, const at::Tensor& v, bool translate) {
  std::vector<at::Tensor> out;
  for (int64_t i = 0; i < 3; ++i) {
    at::Tensor row = m.select(0, i);
    at::Tensor acc = v.select(-1, 0) * row.select(0, 0);
    acc = acc + v.select(-1, 1) * row.select(0, 1);
    acc = acc + v.select(-1, 2) * row.select(0, 2);
    if (translate) acc = acc + row.select(0, 3);
    out.push_back(acc);
  }
  return at::stack(out, -1);
}

// transform_sampled_points for one tile (1, T, N): the perturbation `u` (1, T, N, 1) (its
// arithmetic, element for element), then the world transform m (4, 4) of the tile's camera.
WorldRays transform_tile(const Rays& rays, const at::Tensor& m, const at::Tensor& u) {
  at::Tensor spacing = rays.z_vals.slice(2, 1, 2) - rays.z_vals.slice(2, 0, 1);
  at::Tensor offset = (u - 0.5) * spacing;
  WorldRays w;
  w.z_vals = rays.z_vals + offset;
  w.points = rigid(m, rays.points + offset * rays.dirs.unsqueeze(2), true);
  w.dirs = rigid(m, rays.dirs, false);
  // The bmm of (0, 0, 0, 1) gives the translation exactly.
  w.origins = m.slice(0, 0, 3).select(1, 3).reshape({1, 1, 3}).expand_as(w.dirs);
  return w;
}

// The SIREN of one batch element (codes and light (1, .)) on a tile whose first point is point
// `first` of the image, in chunks on the image's grid of `chunk` points: a tile made of whole
// chunks evaluates exactly the untiled render's chunks (the same GEMM shapes, so the same
// rounding).
SirenEval chunked_eval(Siren siren, at::Tensor freq, at::Tensor phase, at::Tensor light,
                       int64_t chunk, int64_t first, bool normals) {
  std::shared_ptr<SirenImpl> net = siren.ptr();
  return [=](const at::Tensor& points, const at::Tensor& dirs) {
    const int64_t P = points.size(1);
    PointOutputs out;
    auto store = [&](at::Tensor& buf, const at::Tensor& v, int64_t head, int64_t tail) {
      if (!buf.defined()) buf = at::zeros({1, P, v.size(-1)}, v.options());
      buf.slice(1, head, tail).copy_(v);
    };
    for (int64_t head = 0; head < P;) {
      const int64_t tail = std::min(P, (((first + head) / chunk) + 1) * chunk - first);
      PointOutputs o = net->forward(points.slice(1, head, tail), freq, phase, light,
                                    dirs.slice(1, head, tail), normals);
      store(out.sigma, o.sigma, head, tail);
      store(out.rgb, o.rgb, head, tail);
      if (o.normal.defined()) store(out.normal, o.normal, head, tail);
      head = tail;
    }
    return out;
  };
}

// Copies a tile's (1, T, ...) result into the whole image's (B, R, ...) buffer, made on first use.
void put(at::Tensor& whole, const at::Tensor& part, int64_t b, int64_t r0, int64_t B, int64_t R) {
  if (!part.defined()) return;
  if (!whole.defined()) {
    std::vector<int64_t> sizes = part.sizes().vec();
    sizes[0] = B;
    sizes[1] = R;
    whole = at::empty(sizes, part.options());
  }
  whole.slice(0, b, b + 1).slice(1, r0, r0 + part.size(1)).copy_(part);
}

void put_tile(Marched& img, const Marched& t, int64_t b, int64_t r0, int64_t B, int64_t R,
              bool keep_samples) {
  put(img.res.rgb, t.res.rgb, b, r0, B, R);
  put(img.res.depth, t.res.depth, b, r0, B, R);
  put(img.res.depth_std, t.res.depth_std, b, r0, B, R);
  put(img.res.normal, t.res.normal, b, r0, B, R);
  if (!keep_samples) return;
  put(img.res.weights, t.res.weights, b, r0, B, R);
  put(img.z_vals, t.z_vals, b, r0, B, R);
  if (t.fine_z_vals.defined()) {
    put(img.fine_z_vals, t.fine_z_vals.reshape({1, t.z_vals.size(1), -1}), b, r0, B, R);
  }
}

struct StagedInputs {
  Siren siren;
  at::Tensor freq, phase, light;  // (B, .); light undefined without one
  bool normals = false;
};

GeneratorOutput render_tiled(const GeneratorConfig& cfg, const StagedInputs& in,
                             const RenderOptions& opt, const Tiling& tiling, Draws& draws,
                             const CameraSample& cam, const at::Tensor& depth_pred) {
  const int64_t B = in.freq.size(0), S = opt.img_size, R = S * S;
  if (S < 1) throw StageError("staged_forward: img_size must be >= 1, got " + std::to_string(S));
  const int64_t T = tile_rays(opt, tiling);
  const int64_t chunk = std::max<int64_t>(1, opt.max_batch_size);
  const auto fopts = cam.origin.options();
  const at::Tensor dirs = pixel_directions(S, opt.fov, fopts);
  at::Tensor depth;  // the surface-net prediction is made once per image and sliced per tile
  if (tracks_surface(depth_pred, opt)) depth = band_depth(depth_pred, S, opt).reshape({B, R});
  const ImageDraws d = draw_image(B, R, opt, draws, fopts);
  at::Tensor origin = -cam.origin;  // as transform_sampled_points: forward = normalize(-origin)
  const at::Tensor m = cam2world_matrix(origin / at::norm(origin, 2, {-1}, true), cam.origin);

  Marched img;
  for (int64_t b = 0; b < B; ++b) {
    at::Tensor l = in.light.defined() ? in.light.slice(0, b, b + 1) : at::Tensor();
    for (int64_t r0 = 0; r0 < R; r0 += T) {
      const int64_t r1 = std::min(R, r0 + T);
      Draws td;
      std::vector<std::pair<Draw, at::Tensor>> taken;
      td.record = &taken;
      const size_t queued = queue_tile_draws(td, d, b, r0, r1, opt);
      WorldRays w = transform_tile(pixel_rays(dirs, depth, b, r0, r1, opt), m[b],
                                   d.perturbation.slice(0, b, b + 1).slice(1, r0, r1));
      SirenEval eval = chunked_eval(in.siren, in.freq.slice(0, b, b + 1),
                                    in.phase.slice(0, b, b + 1), l, chunk, r0 * opt.num_steps,
                                    in.normals);
      Marched t = march(w, opt, td, eval);
      if (taken.size() != queued) {
        throw StageError("staged_forward: a tile took " + std::to_string(taken.size()) +
                         " random draws, the image drew " + std::to_string(queued) + " per tile");
      }
      put_tile(img, t, b, r0, B, R, tiling.keep_samples);
    }
  }
  if (img.fine_z_vals.defined()) img.fine_z_vals = img.fine_z_vals.reshape({B * R, -1});
  return finish(cfg, B, S, in.light, opt, img, cam, depth_pred, Mode::staged);
}

}  // namespace

GeneratorImpl::GeneratorImpl(const GeneratorConfig& c) : cfg(c) {
  // Every program that trains, renders or evaluates a generator allocates its 50-100 MB
  // activation blocks over and over; from here on they are reused instead of page-faulted in
  // afresh each time (block_cache.h). Process-wide and idempotent.
  use_block_cache();
  siren = register_module("siren", Siren(cfg));
  if (cfg.surf_track) {
    surfacenet = register_module(
        "surfacenet", ResDecoder(18 * cfg.hidden_dim, cfg.surface_nf, cfg.surface_size, 2));
  }
}

GeneratorOutput GeneratorImpl::forward(const at::Tensor& z, const at::Tensor& light,
                                       const RenderOptions& opt, Draws& draws,
                                       const at::Tensor& pose) {
  const int64_t B = z.size(0);
  const auto fopts = z.options().dtype(at::kFloat);
  CameraSample cam = camera_for(B, opt, draws, pose, fopts);
  // The reference runs the mapping network once per SIREN pass with the same z; once is the same
  // values and (summed) the same gradients.
  auto [freq, phase] = siren->mapping_network->forward(z);
  at::Tensor depth_pred;
  if (cfg.surf_track) depth_pred = predict_depth(surfacenet, freq.detach(), phase.detach(), cam, opt);
  // With depth-map normals (ours) the shading needs no per-sample normals at all.
  bool normals = (cfg.shading && !cfg.depth_normals) || opt.rt_normal;
  // Fast path: before the shading warm-up (l_ratio 0) the shade is exactly 1 and nothing reads
  // the normals, so skip them (and the double backward) unless asked to be faithful.
  if (normals && !opt.rt_normal && !opt.faithful_normals && opt.l_ratio == 0) normals = false;
  SirenEval eval = [&](const at::Tensor& points, const at::Tensor& dirs) {
    return siren->forward(points, freq, phase, light, dirs, normals);
  };
  return render(cfg, B, light, opt, draws, cam, depth_pred, eval);
}

int64_t tile_rays(const RenderOptions& opt, const Tiling& tiling) {
  if (tiling.max_rays > 0) return tiling.max_rays;
  const int64_t N = std::max<int64_t>(1, opt.num_steps);
  const int64_t chunk = std::max<int64_t>(1, opt.max_batch_size);
  // lcm(N, chunk) points: whole rays and whole SIREN chunks, so the tiles evaluate the untiled
  // render's chunks and give its pixels bit for bit. When that is more than 16 chunks (N and
  // max_batch_size nearly coprime), the rays of one chunk: the same pixels to float rounding.
  const int64_t rays = chunk / std::gcd(N, chunk);
  if (rays * N <= kMaxChunksPerTile * chunk) return rays;
  return std::max<int64_t>(1, chunk / N);
}

GeneratorOutput GeneratorImpl::staged_forward(const at::Tensor& z, const at::Tensor& light,
                                              const RenderOptions& opt, Draws& draws,
                                              const at::Tensor& pose, const Tiling& tiling) {
  at::NoGradGuard g;
  auto [f, p] = truncated_codes(z, opt.psi, draws, opt.faithful_averages);
  return staged_forward_with_codes(f, p, light, opt, draws, pose, tiling);
}

GeneratorOutput GeneratorImpl::staged_forward_with_codes(const at::Tensor& freq,
                                                         const at::Tensor& phase,
                                                         const at::Tensor& light,
                                                         const RenderOptions& opt, Draws& draws,
                                                         const at::Tensor& pose,
                                                         const Tiling& tiling) {
  at::NoGradGuard g;
  const int64_t B = freq.size(0);
  // The codes' dtype: float32 as trained; float64 when the parity test measures float noise.
  const auto fopts = freq.options();
  CameraSample cam = camera_for(B, opt, draws, pose, fopts);
  at::Tensor depth_pred;
  if (cfg.surf_track) depth_pred = predict_depth(surfacenet, freq, phase, cam, opt);
  StagedInputs in{siren, freq, phase, light, (cfg.shading && !cfg.depth_normals) || opt.rt_normal};
  return render_tiled(cfg, in, opt, tiling, draws, cam, depth_pred);
}

std::pair<at::Tensor, at::Tensor> GeneratorImpl::truncated_codes(const at::Tensor& z, double psi,
                                                                 Draws& draws,
                                                                 bool redraw_averages) {
  at::NoGradGuard g;
  // The reference draws the averages before running the mapping network on z.
  if (redraw_averages) {
    compute_average_codes(draws);
  } else {
    ensure_average_codes(draws);
  }
  auto [raw_f, raw_p] = siren->mapping_network->forward(z);
  return {avg_frequencies + psi * (raw_f - avg_frequencies),
          avg_phase_shifts + psi * (raw_p - avg_phase_shifts)};
}

void GeneratorImpl::compute_average_codes(Draws& draws, int64_t n) {
  at::NoGradGuard g;
  const auto opts = siren->mapping_network->network[0]
                        ->as<torch::nn::Linear>()
                        ->weight.options()
                        .requires_grad(false);
  at::Tensor z = draws.normal(Draw::avg_latents, {n, cfg.z_dim}, opts);
  auto [f, p] = siren->mapping_network->forward(z);
  avg_frequencies = f.mean(0, true);
  avg_phase_shifts = p.mean(0, true);
  avg_stamp_ = mapping_stamp();
}

void GeneratorImpl::ensure_average_codes(Draws& draws) {
  if (!avg_frequencies.defined() || avg_stamp_ != mapping_stamp()) compute_average_codes(draws);
}

void GeneratorImpl::set_average_codes(const at::Tensor& freq, const at::Tensor& phase) {
  avg_frequencies = freq;
  avg_phase_shifts = phase;
  avg_stamp_ = mapping_stamp();
}

std::vector<int64_t> GeneratorImpl::mapping_stamp() const {
  std::vector<int64_t> s;
  for (const auto& p : siren->mapping_network->parameters()) {
    s.push_back(reinterpret_cast<int64_t>(p.data_ptr()));
    s.push_back(static_cast<int64_t>(p._version()));
  }
  return s;
}

}  // namespace sg::model
