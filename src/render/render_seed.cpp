#include "render/render_seed.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_file.h"
#include "core/log.h"
#include "core/progress.h"
#include "data/codec.h"
#include "model/draws.h"
#include "render/gif.h"
#include "render/maps.h"

namespace fs = std::filesystem;

namespace sg::render {

std::vector<double> yaw_offsets(bool rotate) {
  if (rotate) return {-0.5, -0.25, 0, 0.25, 0.5};
  return {0};
}

at::Tensor sweep_lights(const at::Tensor& sampled, bool relight) {
  if (!relight) return sampled.reshape({1, 4}).to(at::kFloat);
  at::Tensor l = at::empty({5, 4}, at::kFloat);
  const double dx[5] = {-1.5, -1, 0, 1, 1.5};
  for (int j = 0; j < 5; ++j) {
    l[j][0] = 0.17;
    l[j][1] = 0.42;
    l[j][2] = dx[j];
    l[j][3] = 0.3;
  }
  return l.to(sampled.device());
}

ViewRenderer generator_renderer(model::Generator gen, const model::RenderOptions& opt, at::Tensor z,
                                model::Draws& draws) {
  return [gen, opt, z, &draws](double pitch, double yaw, const at::Tensor& light) mutable {
    at::NoGradGuard no_grad;
    model::RenderOptions o = opt;
    o.rt_normal = true;  // render.py asks for normals whatever the curriculum says
    at::Tensor pose = at::tensor({pitch, yaw}, z.options().dtype(at::kFloat)).reshape({1, 2});
    model::GeneratorOutput out = gen->staged_forward(z, light, o, draws, pose, view_tiling());
    ViewMaps m;
    m.rgb = (out.rgb[0] + 1) / 2;
    if (out.albedo.defined()) m.albedo = (out.albedo[0] + 1) / 2;
    if (out.normal.defined()) m.normal = out.normal[0];
    m.depth = out.depth[0];
    if (out.shading.defined()) m.shading = out.shading[0];
    if (out.depth_pred.defined()) m.depth_pred = out.depth_pred[0];
    return m;
  };
}

std::string seed_dir_name(int64_t seed) { return fmt::format("seed{:05d}", seed); }

nlohmann::json finished_seed(const std::string& out_dir, int64_t seed, const std::string& key) {
  const fs::path dir = fs::path(out_dir) / seed_dir_name(seed);
  const fs::path rec = dir / "render.json";
  if (!fs::exists(rec)) return nullptr;
  nlohmann::json j;
  try {
    j = read_json(rec.string());
  } catch (const Error&) {
    return nullptr;
  }
  if (j.value("key", "") != key) return nullptr;
  for (const auto& f : j.value("files", nlohmann::json::array()))
    if (!fs::exists(dir / f.get<std::string>())) return nullptr;
  return j;
}

nlohmann::json render_views(const ViewRenderer& view, const RenderSettings& s, int64_t seed,
                            const at::Tensor& light, const std::string& out_dir) {
  const std::string name = seed_dir_name(seed);
  const fs::path final_dir = fs::path(out_dir) / name;
  const fs::path tmp = fs::path(out_dir) / fmt::format(".{}.tmp-{}", name, ::getpid());
  fs::remove_all(tmp);
  create_dirs(tmp.string());

  const std::vector<double> yaws = yaw_offsets(s.rotate);
  const at::Tensor lights = sweep_lights(light, s.relight);
  const int64_t L = lights.size(0);
  const model::CameraOptions& cam = s.options.camera;
  nlohmann::json files = nlohmann::json::array();
  auto put = [&](const std::string& file, const data::Image& img) {
    write_file_atomic((tmp / file).string(), data::encode_png(img));
    files.push_back(file);
  };
  // Sheet rows: rgb per light (columns = yaws), then albedo, normal, depth of the first light.
  std::vector<std::vector<data::Image>> rgb_rows(L), extra_rows(3);
  std::vector<data::Image> gif_frames;
  const int64_t gif_light = L / 2;  // the middle light: dx = 0 in the relight sweep

  Progress progress("render " + name, int64_t(yaws.size()) * L, "view");
  for (size_t i = 0; i < yaws.size(); ++i) {
    for (int64_t j = 0; j < L; ++j) {
      const ViewMaps m = view(cam.v_mean, cam.h_mean + yaws[i], lights.slice(0, j, j + 1));
      const std::string p = fmt::format("yaw{}_light{}_", i, j);
      const data::Image rgb = to_image(m.rgb);
      put(p + "rgb.png", rgb);
      rgb_rows[j].push_back(rgb);
      if (j == gif_light) gif_frames.push_back(rgb);
      data::Image depth = depth_image(m.depth);
      put(p + "depth.png", depth);
      data::Image normal;
      if (m.normal.defined()) put(p + "normal.png", normal = normal_image(m.normal));
      data::Image albedo;
      if (m.albedo.defined()) put(p + "albedo.png", albedo = to_image(m.albedo));
      if (m.shading.defined()) {
        put(p + "shading.png", shading_image(m.shading));
        put(p + "diffuse.png", diffuse_image(m.shading, lights[j]));
      }
      if (m.depth_pred.defined()) put(p + "depth_pred.png", depth_image(m.depth_pred));
      if (j == 0) {
        extra_rows[0].push_back(albedo.width ? albedo : rgb);
        extra_rows[1].push_back(normal.width ? normal : depth);
        extra_rows[2].push_back(depth);
      }
      progress.advance();
    }
  }
  progress.finish();

  std::vector<std::vector<data::Image>> rows = rgb_rows;
  rows.insert(rows.end(), extra_rows.begin(), extra_rows.end());
  put("sheet.png", contact_sheet(rows));
  if (gif_frames.size() > 1) {
    // Ping-pong (0 1 2 3 4 3 2 1), so the loop turns back smoothly.
    std::vector<data::Image> frames = gif_frames;
    for (size_t k = gif_frames.size() - 2; k >= 1; --k) frames.push_back(gif_frames[k]);
    write_file_atomic((tmp / "rotation.gif").string(), encode_gif(frames, s.gif_delay_cs));
    files.push_back("rotation.gif");
  }
  const at::Tensor l = light.to(at::kCPU, at::kDouble).reshape({4});
  nlohmann::json rec = {
      {"seed", seed},
      {"key", s.key},
      {"files", files},
      {"light", {l[0].item<double>(), l[1].item<double>(), l[2].item<double>(), l[3].item<double>()}},
      {"yaws", yaws},
      {"lights", L},
      {"img_size", s.options.img_size},
      {"num_steps", s.options.num_steps},
      {"delta", s.options.delta},
      {"psi", s.options.psi},
      {"views_per_s", progress.rate()},
  };
  write_json_atomic((tmp / "render.json").string(), rec);
  if (fs::exists(final_dir)) fs::remove_all(final_dir);  // a stale seed rendered with other settings
  commit_dir(tmp.string(), final_dir.string());
  log::info("render: seed {} -> {}/ ({} views)", seed, name, yaws.size() * size_t(L));
  log::event("render_seed", rec);
  return rec;
}

nlohmann::json render_seed(model::Generator& gen, const model::LightPrior& prior, const RenderSettings& s,
                           int64_t seed, const std::string& out_dir) {
  at::NoGradGuard no_grad;
  model::Draws avg = model::seeded_draws(kAverageCodesSeed);
  gen->ensure_average_codes(avg);
  const auto opts = gen->avg_frequencies.options();
  model::Draws draws = model::seeded_draws(static_cast<uint64_t>(seed));
  at::Tensor z = draws.normal(model::Draw::latent, {1, gen->cfg.z_dim}, opts);
  at::Tensor light;
  if (prior.mean.defined()) {
    light = model::sample_light(prior, 1, draws).to(opts.device());
  } else {
    if (!s.relight) throw ConfigError("render: no light prior, and without relight every view needs one");
    light = draws.normal(model::Draw::light, {1, 4}, opts) * 0;  // consumed, unused
  }
  return render_views(generator_renderer(gen, s.options, z, draws), s, seed, light, out_dir);
}

model::Tiling view_tiling() {
  model::Tiling t;
  t.keep_samples = false;
  return t;
}

ViewMemory view_memory(const model::RenderOptions& o, int64_t hidden_dim) {
  const double f = 4;  // bytes per float32
  const double pixels = double(o.img_size) * double(o.img_size);
  const double N = double(o.num_steps);
  ViewMemory m;
  m.tile_rays = std::min<int64_t>(model::tile_rays(o, view_tiling()), o.img_size * o.img_size);
  // Per pixel: the draws (perturbation and pdf uniforms kept; the density noise, N coarse and 2N
  // final samples, is drawn and dropped at nerf_noise 0 but kept otherwise: at most 5 N floats)
  // and the composited maps with their shading, images and temporaries (~48 floats).
  m.image = pixels * (5 * N + 48) * f;
  // Per sample of a tile (coarse + fine): points, directions, distances, density, colour, normal
  // for both passes, their sorted copies and the weights: ~100 floats is a safe upper bound
  // (measured ~60).
  m.tile = double(m.tile_rays) * 2 * N * 100 * f;
  // The SIREN chunk: ~24 activations of width H kept for the normals' backward pass.
  const double points = std::min(double(o.max_batch_size), double(m.tile_rays) * N);
  m.chunk = points * double(hidden_dim) * 24 * f;
  return m;
}

double view_memory_bytes(const model::RenderOptions& o, int64_t hidden_dim) {
  return view_memory(o, hidden_dim).total();
}

void validate(const RenderSettings& s, int64_t hidden_dim, double memory_budget_bytes) {
  const auto& o = s.options;
  if (o.img_size < 1) throw ConfigError("image_size must be >= 1, got " + std::to_string(o.img_size));
  if (o.num_steps < 2) throw ConfigError("num_steps must be >= 2 (hierarchical sampling), got " + std::to_string(o.num_steps));
  if (o.psi < 0) throw ConfigError("psi must be >= 0");
  if (o.max_batch_size < 1) throw ConfigError("max_batch_size must be >= 1");
  const ViewMemory m = view_memory(o, hidden_dim);
  auto mib = [](double b) { return int64_t(b / (1 << 20)); };
  if (m.image > memory_budget_bytes)
    throw ConfigError(fmt::format(
        "image_size {} with num_steps {}: even rendered in tiles, one view needs about {} MiB for its "
        "per-pixel maps and random draws alone, more than the {} MiB budget (max_memory_gb, at most "
        "the memory available); lower image_size or num_steps",
        o.img_size, o.num_steps, mib(m.image), mib(memory_budget_bytes)));
  if (m.total() > memory_budget_bytes)
    throw ConfigError(fmt::format(
        "image_size {} with num_steps {}: one view needs about {} MiB ({} MiB for its per-pixel maps and draws, {} MiB for a "
        "tile of {} rays and its SIREN chunk of max_batch_size {} points), more than the {} MiB "
        "budget (max_memory_gb, at most the memory available); lower max_batch_size, which sets the "
        "tile, or image_size or num_steps",
        o.img_size, o.num_steps, mib(m.total()), mib(m.image), mib(m.tile + m.chunk), m.tile_rays,
        o.max_batch_size, mib(memory_budget_bytes)));
}

}  // namespace sg::render
