#include "model/generator.h"
#include "model/camera.h"


#include <string>
#include <vector>
// doctest last: its CHECK must win over glog's, which LibTorch headers define.
#include <doctest/doctest.h>

using namespace sg::model;

namespace {

int64_t count(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

using KeyShapes = std::vector<std::pair<std::string, std::vector<int64_t>>>;

// Spec 11, CelebA_ShadeGAN_view with the official surface net (nf 16), in parameter order.
KeyShapes spec_celeba_view() {
  KeyShapes k;
  for (int i = 0; i < 8; ++i) {
    const std::string p = "siren.network." + std::to_string(i) + ".layer.";
    k.push_back({p + "weight", {256, i == 0 ? 3 : 256}});
    k.push_back({p + "bias", {256}});
  }
  k.push_back({"siren.final_layer.weight", {1, 256}});
  k.push_back({"siren.final_layer.bias", {1}});
  k.push_back({"siren.color_layer_sine.layer.weight", {256, 263}});
  k.push_back({"siren.color_layer_sine.layer.bias", {256}});
  k.push_back({"siren.color_layer_linear.0.weight", {3, 256}});
  k.push_back({"siren.color_layer_linear.0.bias", {3}});
  for (int i : {0, 2, 4, 6}) {
    const std::string p = "siren.mapping_network.network." + std::to_string(i) + ".";
    k.push_back({p + "weight", {i == 6 ? 4608 : 256, 256}});
    k.push_back({p + "bias", {i == 6 ? 4608 : 256}});
  }
  k.push_back({"surfacenet.linear.weight", {256, 4608}});
  k.push_back({"surfacenet.linear.bias", {256}});
  k.push_back({"surfacenet.network.0.weight", {256, 258, 1, 1}});
  k.push_back({"surfacenet.network.2.weight", {256, 256, 4, 4}});
  k.push_back({"surfacenet.network.4.weight", {256, 256, 3, 3}});
  k.push_back({"surfacenet.network.6.weight", {256, 256, 4, 4}});
  k.push_back({"surfacenet.network.7.weight", {256}});
  k.push_back({"surfacenet.network.7.bias", {256}});
  k.push_back({"surfacenet.network.9.weight", {256, 256, 3, 3}});
  int64_t c = 256;
  for (int i = 10; i <= 13; ++i) {
    const std::string p = "surfacenet.network." + std::to_string(i) + ".";
    k.push_back({p + "gn1.weight", {c}});
    k.push_back({p + "gn1.bias", {c}});
    k.push_back({p + "conv1.weight", {c / 2, c, 3, 3}});
    k.push_back({p + "gn2.weight", {c / 2}});
    k.push_back({p + "gn2.bias", {c / 2}});
    k.push_back({p + "conv2.weight", {c / 2, c / 2, 3, 3}});
    k.push_back({p + "conv_sc.weight", {c / 2, c, 1, 1}});
    k.push_back({p + "conv_sc.bias", {c / 2}});
    c /= 2;
  }
  k.push_back({"surfacenet.network.14.weight", {16}});
  k.push_back({"surfacenet.network.14.bias", {16}});
  k.push_back({"surfacenet.network.16.weight", {2, 16, 5, 5}});
  return k;
}

GeneratorConfig tiny(bool shading = true, bool surf_track = false) {
  GeneratorConfig c;
  c.hidden_dim = 16;
  c.z_dim = 8;
  c.map_hidden_dim = 16;
  c.shading = shading;
  c.light_condition = shading;
  c.surf_track = surf_track;
  c.surface_nf = 8;  // the smallest width whose GroupNorms have a group
  c.surface_size = 64;
  return c;
}

RenderOptions tiny_render() {
  RenderOptions o;
  o.img_size = 4;
  o.num_steps = 4;
  o.nerf_noise = 0.5;
  return o;
}

}  // namespace

TEST_CASE("generator state-dict keys, order and shapes equal spec 11") {
  Generator g(GeneratorConfig{});
  KeyShapes expect = spec_celeba_view();
  auto np = g->named_parameters();
  REQUIRE(np.size() == expect.size());
  CHECK(np.size() == 74);
  for (size_t i = 0; i < expect.size(); ++i) {
    CAPTURE(expect[i].first);
    CHECK(np[i].key() == expect[i].first);
    CHECK(np[i].value().sizes() == at::IntArrayRef(expect[i].second));
  }
  CHECK(count(*g) == 7068628);
}

TEST_CASE("parameter totals of every curriculum family (spec 11)") {
  GeneratorConfig noview;
  noview.view_condition = false;
  CHECK(count(*Generator(noview)) == 7067860);                    // CelebA_ShadeGAN_noview
  CHECK(count(*Generator(GeneratorConfig::pigan())) == 1910788);  // CelebA/Cats/BFM piGAN
  GeneratorConfig bfm_noview = noview;
  bfm_noview.surf_track = false;
  CHECK(count(*Generator(bfm_noview)) == 1911044);
  GeneratorConfig bfm_view;
  bfm_view.surf_track = false;
  CHECK(count(*Generator(bfm_view)) == 1911812);
  auto pg = Generator(GeneratorConfig::pigan())->named_parameters();
  CHECK(pg["siren.color_layer_sine.layer.weight"].sizes() == at::IntArrayRef({256, 259}));
  CHECK(pg.find("surfacenet.linear.weight") == nullptr);
}

TEST_CASE("SIREN and mapping initialisations") {
  Generator g(GeneratorConfig{});
  auto np = g->named_parameters();
  // network[0]: U(-1/3, 1/3); other FiLM layers U(+-sqrt(6/256)/25).
  CHECK(np["siren.network.0.layer.weight"].abs().max().item<double>() <= 1.0 / 3);
  CHECK(np["siren.network.0.layer.weight"].abs().max().item<double>() > 0.3);
  const double b = std::sqrt(6.0 / 256) / 25;
  CHECK(np["siren.network.3.layer.weight"].abs().max().item<double>() <= b);
  CHECK(np["siren.network.3.layer.weight"].abs().max().item<double>() > 0.95 * b);
  // Mapping: Kaiming-normal (a = 0.2) std sqrt(2/1.04)/16, the last layer scaled by 1/4.
  const double s = std::sqrt(2.0 / 1.04) / 16;
  CHECK(np["siren.mapping_network.network.2.weight"].std().item<double>() ==
        doctest::Approx(s).epsilon(0.03));
  CHECK(np["siren.mapping_network.network.6.weight"].std().item<double>() ==
        doctest::Approx(s / 4).epsilon(0.03));
}

TEST_CASE("surface net output size and nf doubling") {
  at::NoGradGuard ng;
  ResDecoder d(32, 8, 128);
  at::Tensor y = d->forward(at::randn({2, 32}), at::randn({2, 2}));
  CHECK(y.sizes() == at::IntArrayRef({2, 2, 128, 128}));
  CHECK(((y > 0) & (y < 1)).all().item<bool>());
  CHECK(ResDecoder(32, 8, 64)->forward(at::randn({1, 32}), at::randn({1, 2})).size(-1) == 64);
}

TEST_CASE("normals are minus the density gradient w.r.t. the warped points") {
  at::manual_seed(3);
  Siren s(tiny());
  s->to(at::kDouble);
  at::Tensor pts = at::rand({1, 5, 3}, at::kDouble) * 0.2 - 0.1;
  at::Tensor dirs = at::randn({1, 5, 3}, at::kDouble);
  at::NoGradGuard ng;
  auto [f, p] = s->mapping_network->forward(at::randn({1, 8}, at::kDouble));
  PointOutputs o = s->forward(pts, f, p, at::zeros({1, 4}, at::kDouble), dirs, true);
  const double h = 1e-6;
  for (int axis = 0; axis < 3; ++axis) {
    at::Tensor e = at::zeros({1, 1, 3}, at::kDouble);
    e[0][0][axis] = h;
    // Central differences in warped coordinates: x0 = p * 2/0.24, so dp = h / scale.
    at::Tensor plus = s->density(pts + e / kGridWarpScale, f, p);
    at::Tensor minus = s->density(pts - e / kGridWarpScale, f, p);
    at::Tensor fd = -(plus - minus) / (2 * h);
    CHECK(at::allclose(o.normal.select(-1, axis), fd.squeeze(-1), 1e-5, 1e-7));
  }
  CHECK(at::allclose(s->density(pts, f, p), o.sigma));
  CHECK(!o.normal.requires_grad());
}

TEST_CASE("the training forward back-propagates through the normals (double backward)") {
  at::manual_seed(0);
  Generator g(tiny(true, true));
  Draws d = seeded_draws(1);
  RenderOptions o = tiny_render();
  o.delta = 0.1;  // rays around the surface net's depth
  GeneratorOutput out = g->forward(at::randn({2, 8}), at::randn({2, 4}) * 0.3, o, d);
  CHECK(out.rgb.sizes() == at::IntArrayRef({2, 3, 4, 4}));
  CHECK(out.depth.sizes() == at::IntArrayRef({2, 64, 64}));  // resized to the surface net
  CHECK(out.depth_pred.sizes() == at::IntArrayRef({2, 64, 64}));
  REQUIRE(out.normal.defined());
  REQUIRE(out.normal.requires_grad());
  // Per-point normals of the SIREN: final_layer.weight gets a gradient from them only through
  // d(sigma)/dx (its bias does not enter the gradient), i.e. only through the double backward.
  {
    auto [f, p] = g->siren->mapping_network->forward(at::randn({1, 8}));
    PointOutputs po = g->siren->forward(at::rand({1, 6, 3}) * 0.2 - 0.1, f, p, at::zeros({1, 4}),
                                        at::randn({1, 6, 3}), true);
    REQUIRE(po.normal.requires_grad());
    po.normal.sum().backward();
    at::Tensor gw = g->siren->final_layer->weight.grad();
    REQUIRE(gw.defined());
    CHECK(gw.abs().sum().item<double>() > 0);
    CHECK(gw.isfinite().all().item<bool>());
    at::Tensor gb = g->siren->final_layer->bias.grad();
    CHECK((!gb.defined() || gb.abs().sum().item<double>() == 0));
  }
  g->zero_grad();
  (out.rgb.mean() + out.depth_pred.mean()).backward();
  for (const auto& kv : g->siren->named_parameters()) {
    CAPTURE(kv.key());
    at::Tensor gr = kv.value().grad();
    REQUIRE(gr.defined());
    CHECK(gr.isfinite().all().item<bool>());
    CHECK(gr.abs().sum().item<double>() > 0);
  }
  // The surface net is detached from the mapping network and trains only through depth_pred.
  CHECK(g->surfacenet->linear->weight.grad().abs().sum().item<double>() > 0);
}

TEST_CASE("fast paths give the faithful pixels") {
  at::manual_seed(1);
  Generator g(tiny());
  at::Tensor z = at::randn({2, 8}), l = at::randn({2, 4}) * 0.3;
  RenderOptions o = tiny_render();
  o.l_ratio = 0;  // before the shading warm-up: normals unused
  Draws d1 = seeded_draws(5), d2 = seeded_draws(5);
  GeneratorOutput fast = g->forward(z, l, o, d1);
  o.faithful_normals = true;
  GeneratorOutput faithful = g->forward(z, l, o, d2);
  CHECK(!fast.normal.defined());
  CHECK(faithful.normal.defined());
  CHECK(at::allclose(fast.rgb, faithful.rgb, 0, 1e-6));

  // Chunked inference equals one chunk; cached averages equal redrawn ones for the same draws.
  at::NoGradGuard ng;
  RenderOptions r = tiny_render();
  r.psi = 0.7;
  r.faithful_averages = true;
  Draws a = seeded_draws(9), b = seeded_draws(9);
  r.max_batch_size = 7;
  GeneratorOutput chunked = g->staged_forward(z, l, r, a);
  r.max_batch_size = 1 << 20;
  GeneratorOutput whole = g->staged_forward(z, l, r, b);
  CHECK(at::allclose(chunked.rgb, whole.rgb, 0, 1e-5));
  // Other chunk sizes change the GEMMs' blocking, hence float32 rounding, which the SIREN's large
  // phases amplify (more so in normals, a derivative): a few 1e-6.
  CHECK(at::allclose(chunked.normal, whole.normal, 0, 3e-5));
  CHECK(chunked.rgb.sizes() == at::IntArrayRef({2, 3, 4, 4}));
  CHECK(chunked.albedo.sizes() == at::IntArrayRef({2, 3, 4, 4}));
  CHECK(chunked.shading.sizes() == at::IntArrayRef({2, 4, 4}));
  CHECK(chunked.weights.sizes() == at::IntArrayRef({2, 16, 8, 1}));

  // Averages are computed once per weights and recomputed when the mapping weights change.
  Draws c = seeded_draws(11);
  g->ensure_average_codes(c);
  at::Tensor avg = g->avg_frequencies;
  g->ensure_average_codes(c);
  CHECK(g->avg_frequencies.data_ptr() == avg.data_ptr());
  g->siren->mapping_network->network[0]->as<torch::nn::Linear>()->bias.add_(0.1);
  g->ensure_average_codes(c);
  CHECK(g->avg_frequencies.data_ptr() != avg.data_ptr());
}

TEST_CASE("pi-GAN variant renders without shading or surface net") {
  at::manual_seed(2);
  GeneratorConfig c = GeneratorConfig::pigan();
  c.hidden_dim = 16;
  c.z_dim = 8;
  c.map_hidden_dim = 16;
  Generator g(c);
  at::NoGradGuard ng;
  Draws d = seeded_draws(3);
  RenderOptions o = tiny_render();
  o.lock_view_dependence = true;
  GeneratorOutput out = g->staged_forward(at::randn({1, 8}), at::Tensor(), o, d);
  CHECK(out.rgb.sizes() == at::IntArrayRef({1, 3, 4, 4}));
  CHECK(!out.normal.defined());
  CHECK(!out.albedo.defined());
  CHECK(!out.depth_pred.defined());
  CHECK(((out.depth >= 0.88) & (out.depth <= 1.12)).all().item<bool>());
}

// ---- staged_forward in tiles of rays (issue #8) ----

namespace {

struct Staged {
  GeneratorOutput out;
  std::vector<std::pair<Draw, at::Tensor>> draws;  // every draw it took, in order
  at::Tensor next;                                 // the stream's next value after it
};

Staged staged(Generator& g, const at::Tensor& z, const at::Tensor& l, const RenderOptions& o,
              const Tiling& t) {
  Staged s;
  Draws avg = seeded_draws(20);
  g->ensure_average_codes(avg);  // once per weights: every render below sees the same stream
  Draws d = seeded_draws(21);
  d.record = &s.draws;
  s.out = g->staged_forward(z, l, o, d, {}, t);
  d.record = nullptr;
  s.next = d.uniform(Draw::latent, {4});
  return s;
}

// Bitwise equality of two optional outputs (both undefined, or equal shape and values).
void same(const at::Tensor& a, const at::Tensor& b, const std::string& what) {
  CAPTURE(what);
  REQUIRE(a.defined() == b.defined());
  if (!a.defined()) return;
  REQUIRE(a.sizes() == b.sizes());
  CHECK((a - b).abs().max().item<double>() == 0);
  CHECK(at::equal(a, b));
}

void same_outputs(const GeneratorOutput& a, const GeneratorOutput& b) {
  same(a.rgb, b.rgb, "rgb");
  same(a.albedo, b.albedo, "albedo");
  same(a.shading, b.shading, "shading");
  same(a.normal, b.normal, "normal");
  same(a.depth, b.depth, "depth");
  same(a.depth_std, b.depth_std, "depth_std");
  same(a.weights, b.weights, "weights");
  same(a.pose, b.pose, "pose");
  same(a.depth_pred, b.depth_pred, "depth_pred");
  same(a.z_vals, b.z_vals, "z_vals");
  same(a.fine_z_vals, b.fine_z_vals, "fine_z_vals");
}

}  // namespace

TEST_CASE("staged_forward in tiles of rays equals the untiled render") {
  at::NoGradGuard ng;
  for (bool surf : {false, true}) {
    for (bool shading : {false, true}) {
      for (double noise : {0.0, 0.5}) {
        CAPTURE(surf);
        CAPTURE(shading);
        CAPTURE(noise);
        at::manual_seed(7);
        Generator g(tiny(shading, surf));
        g->siren->final_layer->bias.fill_(2);  // dense enough that every sample counts
        at::Tensor z = at::randn({2, 8}), l = at::randn({2, 4}) * 0.3;
        RenderOptions o = tiny_render();
        o.img_size = 5;  // 25 rays per image: tiles of 7 leave a tile of 4
        o.num_steps = 4;
        o.nerf_noise = noise;
        o.rt_normal = true;
        if (surf) o.delta = 0.1;
        // One ray per SIREN chunk in both renders, so the GEMMs see the same shapes and the
        // comparison can be bitwise (other chunkings round differently, see "fast paths").
        o.max_batch_size = o.num_steps;
        Tiling whole, tiles;
        whole.max_rays = 25;
        tiles.max_rays = 7;
        Staged a = staged(g, z, l, o, whole), b = staged(g, z, l, o, tiles);
        same_outputs(a.out, b.out);
        CHECK(a.out.rgb.sizes() == at::IntArrayRef({2, 3, 5, 5}));
        CHECK(a.out.weights.sizes() == at::IntArrayRef({2, 25, 8, 1}));
        CHECK(a.out.fine_z_vals.sizes() == at::IntArrayRef({50, 4}));
        CHECK(a.out.albedo.defined() == shading);
        CHECK(a.out.depth_pred.defined() == surf);
        // The same draws, in the same order and shapes, and the stream left at the same place.
        REQUIRE(a.draws.size() == b.draws.size());
        for (size_t i = 0; i < a.draws.size(); ++i) {
          CHECK(a.draws[i].first == b.draws[i].first);
          CHECK(at::equal(a.draws[i].second, b.draws[i].second));
        }
        CHECK(at::equal(a.next, b.next));

        // Tiles of one ray, and maps only: the same pixels without the per-sample outputs.
        Tiling rays_only;
        rays_only.max_rays = 1;
        rays_only.keep_samples = false;
        Staged c = staged(g, z, l, o, rays_only);
        same(a.out.rgb, c.out.rgb, "rgb, 1-ray tiles");
        same(a.out.normal, c.out.normal, "normal, 1-ray tiles");
        same(a.out.depth, c.out.depth, "depth, 1-ray tiles");
        CHECK(!c.out.weights.defined());
        CHECK(!c.out.z_vals.defined());
        CHECK(!c.out.fine_z_vals.defined());
      }
    }
  }
}

TEST_CASE("default tiles are whole SIREN chunks: the untiled pixels bit for bit") {
  RenderOptions o = tiny_render();
  o.num_steps = 24;
  o.max_batch_size = 50000;
  CHECK(tile_rays(o) == 6250);  // lcm(24, 50000) = 150000 points: 3 chunks
  o.max_batch_size = 49999;     // coprime: 24 chunks would be too many, so one chunk's rays
  CHECK(tile_rays(o) == 49999 / 24);
  Tiling t;
  t.max_rays = 5;
  CHECK(tile_rays(o, t) == 5);

  at::NoGradGuard ng;
  at::manual_seed(8);
  Generator g(tiny(true, true));
  g->siren->final_layer->bias.fill_(2);  // dense enough that every sample counts
  at::Tensor z = at::randn({2, 8}), l = at::randn({2, 4}) * 0.3;
  o = tiny_render();
  o.img_size = 6;
  o.delta = 0.1;
  Tiling whole;
  whole.max_rays = 36;
  for (int64_t chunk : {8, 13}) {  // tiles of 2 rays (1 chunk), of 13 rays (4 chunks)
    CAPTURE(chunk);
    o.max_batch_size = chunk;
    CHECK(tile_rays(o) == (chunk == 8 ? 2 : 13));
    same_outputs(staged(g, z, l, o, {}).out, staged(g, z, l, o, whole).out);
  }
  // Tiles that cut chunks (5 rays = 20 points, chunks of 13) run GEMMs of other shapes: the same
  // pixels to float rounding, as other max_batch_size values (see "fast paths").
  GeneratorOutput cut = staged(g, z, l, o, t).out, ref = staged(g, z, l, o, whole).out;
  CHECK(at::allclose(cut.rgb, ref.rgb, 0, 1e-5));
  CHECK(at::allclose(cut.normal, ref.normal, 0, 3e-5));
  CHECK(at::equal(cut.z_vals, ref.z_vals));  // ray sampling involves no GEMM
}

TEST_CASE("a tile's samples are those of initial_rays and rays_from_depth, bitwise") {
  at::NoGradGuard ng;
  for (bool surf : {false, true}) {
    CAPTURE(surf);
    at::manual_seed(9);
    Generator g(tiny(true, surf));
    RenderOptions o = tiny_render();
    o.img_size = 5;
    o.hierarchical_sample = false;
    if (surf) o.delta = 0.1;
    Tiling t;
    t.max_rays = 3;
    Staged s = staged(g, at::randn({2, 8}), at::randn({2, 4}) * 0.3, o, t);
    at::Tensor u;  // the perturbation draw
    for (const auto& [kind, v] : s.draws)
      if (kind == Draw::perturbation) u = v;
    REQUIRE(u.defined());
    Rays rays;
    if (surf) {
      // The band of spec §3.4 around the surface net's depth.
      at::Tensor depth = resize_map(s.out.depth_pred, 5);
      at::Tensor delta = at::ones_like(depth) * o.delta;
      depth = at::min(at::max(depth, o.ray_start + delta / 2), o.ray_end - delta / 2);
      rays = rays_from_depth(o.num_steps, depth, o.delta, o.fov);
    } else {
      rays = initial_rays(2, o.num_steps, 5, o.fov, o.ray_start, o.ray_end);
    }
    at::Tensor spacing = rays.z_vals.slice(2, 1, 2) - rays.z_vals.slice(2, 0, 1);
    CHECK(at::equal(s.out.z_vals, rays.z_vals + (u - 0.5) * spacing));
  }
}

TEST_CASE("siren_frequency_scale s equals every FiLM layer's weights and biases times s") {
  // sin(s*gamma*(Wx + b) + beta) = sin(gamma*((sW)x + sb) + beta): a scaled generator must give
  // the densities and colours of the unscaled one whose FiLM layers are scaled instead.
  const double s = 0.4;
  GeneratorConfig scaled_cfg = tiny();
  scaled_cfg.frequency_scale = s;
  at::manual_seed(5);
  Siren scaled(scaled_cfg);
  at::manual_seed(5);
  Siren plain(tiny());
  scaled->to(at::kDouble);
  plain->to(at::kDouble);
  at::NoGradGuard ng;
  std::vector<torch::nn::Linear> layers;
  for (auto& m : *plain->network) layers.push_back(m->as<FiLMLayer>()->layer);
  layers.push_back(plain->color_layer_sine->layer);
  for (auto& l : layers) {
    l->weight.mul_(s);
    l->bias.mul_(s);
  }
  at::Tensor pts = at::rand({2, 7, 3}, at::kDouble) * 0.2 - 0.1;
  at::Tensor dirs = at::randn({2, 7, 3}, at::kDouble);
  at::Tensor light = at::randn({2, 4}, at::kDouble);
  auto [f, p] = plain->mapping_network->forward(at::randn({2, 8}, at::kDouble));
  PointOutputs a = scaled->forward(pts, f, p, light, dirs, false);
  PointOutputs b = plain->forward(pts, f, p, light, dirs, false);
  CHECK(at::allclose(a.sigma, b.sigma, 1e-9, 1e-12));
  CHECK(at::allclose(a.rgb, b.rgb, 1e-9, 1e-12));
  // And it is a real change: the unscaled generator itself differs.
  at::manual_seed(5);
  Siren fresh(tiny());
  fresh->to(at::kDouble);
  CHECK_FALSE(at::allclose(fresh->forward(pts, f, p, light, dirs, false).sigma, a.sigma, 1e-3, 1e-6));
}
