#include "model/generator.h"

#include <torch/autograd.h>

#include <cmath>
#include <functional>

#include "core/error.h"
#include "model/camera.h"
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
  at::Tensor p = pose.to(fopts.device_opt().value_or(at::kCPU), at::kFloat);
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

// Everything after the camera and the surface-net prediction: rays, coarse pass, importance
// sampling, fine pass, integration, shading and the output layout of either mode.
GeneratorOutput render(const GeneratorConfig& cfg, int64_t B, const at::Tensor& light,
                       const RenderOptions& opt, Draws& draws, const CameraSample& cam,
                       const at::Tensor& depth_pred, const SirenEval& eval, Mode mode) {
  const int64_t S = opt.img_size, R = S * S, N = opt.num_steps;
  const auto fopts = cam.origin.options();
  WorldRays w;
  at::Tensor points, dirs;
  {
    at::NoGradGuard g;
    Rays rays;
    if (depth_pred.defined() && opt.delta > 0) {
      at::Tensor depth = resize_map(depth_pred.detach(), S);
      at::Tensor delta = at::ones_like(depth) * opt.delta;
      depth = at::max(depth, opt.ray_start + delta / 2);
      depth = at::min(depth, opt.ray_end - delta / 2);
      rays = rays_from_depth(N, depth, opt.delta, opt.fov);
    } else {
      rays = initial_rays(B, N, S, opt.fov, opt.ray_start, opt.ray_end, fopts);
    }
    w = transform_sampled_points(rays, cam.origin, draws);
    dirs = w.dirs.unsqueeze(-2).expand({-1, -1, N, -1}).reshape({B, R * N, 3});
    points = w.points.reshape({B, R * N, 3});
    if (opt.lock_view_dependence) {
      dirs = at::zeros_like(dirs);
      dirs.select(-1, 2).fill_(-1);
    }
  }

  PointOutputs coarse = eval(points, dirs);
  reshape_points(coarse, B, R, N);

  GeneratorOutput out;
  out.z_vals = w.z_vals;
  PointOutputs all = coarse;
  at::Tensor all_z = w.z_vals;
  at::Tensor coarse_depth_std;
  if (opt.hierarchical_sample) {
    at::Tensor fine_points, fine_z;
    {
      at::NoGradGuard g;
      IntegrateOptions io;
      io.noise_std = opt.nerf_noise;
      io.clamp_mode = opt.clamp_mode;
      Integrated ci = integrate(coarse, w.z_vals, io, draws);
      coarse_depth_std = ci.depth_std;
      at::Tensor weights = ci.weights.reshape({B * R, N}) + 1e-5;
      at::Tensor z = w.z_vals.reshape({B * R, N});
      at::Tensor mids = 0.5 * (z.slice(1, 0, -1) + z.slice(1, 1));
      out.fine_z_vals = sample_pdf(mids, weights.slice(1, 1, -1), N, false, draws).detach();
      fine_z = out.fine_z_vals.reshape({B, R, N, 1});
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
  Integrated res = integrate(all, all_z, fo, draws);

  at::Tensor rgb = res.rgb;
  if (cfg.shading) {
    Shaded s = lambertian(res.rgb, res.normal, light, opt.l_ratio);
    out.albedo = res.rgb;
    rgb = s.rgb;
    out.shading = s.shading;
  }
  auto image = [&](const at::Tensor& t) {
    return t.reshape({B, S, S, 3}).permute({0, 3, 1, 2}).contiguous() * 2 - 1;
  };
  out.rgb = image(rgb);
  if (res.normal.defined()) {
    out.normal = res.normal.reshape({B, S, S, 3}).permute({0, 3, 1, 2}).contiguous();
  }
  out.weights = res.weights;
  out.pose = at::cat({cam.pitch, cam.yaw}, -1);
  out.depth_pred = depth_pred;
  if (mode == Mode::training) {
    // The coarse pass's depth_std (spec §2.7); both maps resized to the surface net's size.
    at::Tensor dstd = coarse_depth_std.defined() ? coarse_depth_std : res.depth_std;
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

}  // namespace

GeneratorImpl::GeneratorImpl(const GeneratorConfig& c) : cfg(c) {
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
  bool normals = cfg.shading || opt.rt_normal;
  // Fast path: before the shading warm-up (l_ratio 0) the shade is exactly 1 and nothing reads
  // the normals, so skip them (and the double backward) unless asked to be faithful.
  if (normals && !opt.rt_normal && !opt.faithful_normals && opt.l_ratio == 0) normals = false;
  SirenEval eval = [&](const at::Tensor& points, const at::Tensor& dirs) {
    return siren->forward(points, freq, phase, light, dirs, normals);
  };
  return render(cfg, B, light, opt, draws, cam, depth_pred, eval, Mode::training);
}

GeneratorOutput GeneratorImpl::staged_forward(const at::Tensor& z, const at::Tensor& light,
                                              const RenderOptions& opt, Draws& draws,
                                              const at::Tensor& pose) {
  at::NoGradGuard g;
  auto [f, p] = truncated_codes(z, opt.psi, draws, opt.faithful_averages);
  return staged_forward_with_codes(f, p, light, opt, draws, pose);
}

GeneratorOutput GeneratorImpl::staged_forward_with_codes(const at::Tensor& freq,
                                                         const at::Tensor& phase,
                                                         const at::Tensor& light,
                                                         const RenderOptions& opt, Draws& draws,
                                                         const at::Tensor& pose) {
  at::NoGradGuard g;
  const int64_t B = freq.size(0);
  const auto fopts = freq.options().dtype(at::kFloat);
  CameraSample cam = camera_for(B, opt, draws, pose, fopts);
  at::Tensor depth_pred;
  if (cfg.surf_track) depth_pred = predict_depth(surfacenet, freq, phase, cam, opt);
  const bool normals = cfg.shading || opt.rt_normal;
  const int64_t chunk = std::max<int64_t>(1, opt.max_batch_size);
  // Per batch element, chunks of max_batch_size points into preallocated buffers: memory for the
  // SIREN's activations stays bounded whatever the image size.
  SirenEval eval = [&](const at::Tensor& points, const at::Tensor& dirs) {
    const int64_t P = points.size(1);
    PointOutputs out;
    auto store = [&](at::Tensor& buf, const at::Tensor& v, int64_t b, int64_t head, int64_t tail) {
      if (!buf.defined()) buf = at::zeros({B, P, v.size(-1)}, v.options());
      buf.slice(0, b, b + 1).slice(1, head, tail).copy_(v);
    };
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t head = 0; head < P; head += chunk) {
        const int64_t tail = std::min(P, head + chunk);
        at::Tensor l = light.defined() ? light.slice(0, b, b + 1) : at::Tensor();
        PointOutputs o = siren->forward(points.slice(0, b, b + 1).slice(1, head, tail),
                                        freq.slice(0, b, b + 1), phase.slice(0, b, b + 1), l,
                                        dirs.slice(0, b, b + 1).slice(1, head, tail), normals);
        store(out.sigma, o.sigma, b, head, tail);
        store(out.rgb, o.rgb, b, head, tail);
        if (o.normal.defined()) store(out.normal, o.normal, b, head, tail);
      }
    }
    return out;
  };
  return render(cfg, B, light, opt, draws, cam, depth_pred, eval, Mode::staged);
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
