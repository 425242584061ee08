#include "metrics/evaluation.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <sstream>

#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/signals.h"
#include "core/text.h"
#include "data/shard_reader.h"
#include "metrics/eval_images.h"
#include "metrics/feature_cache.h"
#include "metrics/fid.h"
#include "metrics/fid_inception.h"
#include "metrics/learning_measure.h"
#include "metrics/numpy_random.h"
#include "metrics/random_features.h"
#include "metrics/flat_plane.h"
#include "metrics/shape_accuracy.h"
#include "metrics/silhouette.h"
#include "model/draws.h"
#include "mpi/mpi.h"

namespace sg::metrics {

using nlohmann::json;

MetricSelection parse_metric_selection(const std::string& text) {
  MetricSelection s;
  if (text == "auto") {
    s.fid = s.kid = s.is = s.shape = s.learning = true;
    s.automatic = true;
    return s;
  }
  if (text == "all") {
    s.fid = s.kid = s.is = s.shape = s.learning = true;
    return s;
  }
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (item == "fid") s.fid = true;
    else if (item == "kid") s.kid = true;
    else if (item == "is") s.is = true;
    else if (item == "shape") s.shape = true;
    else if (item == "learning") s.learning = true;
    else
      throw ConfigError("metrics: " + unknown_name_message("metric", item,
                                                           {"auto", "all", "fid", "kid", "is", "shape", "learning"}));
  }
  if (!s.fid && !s.kid && !s.is && !s.shape && !s.learning) throw ConfigError("metrics: no metric named");
  return s;
}

namespace {

// Evaluation keeps no partial state (each number needs every image), so a stop signal (Ctrl-C,
// SIGTERM from Slurm, SIGUSR1 from `shadegan run`) ends it at the next batch or inversion step
// with exit 75: the stage is rerun whole, and a preempted job gives back its allocation within
// one batch instead of after the whole evaluation.
void stop_point(const char* phase) {
  if (stop_requested())
    throw Error(ExitCode::preempted, fmt::format("eval: stopped by signal {} during {}; evaluation keeps no "
                                                 "partial results, rerun it to evaluate",
                                                 stop_signal(), phase));
}

// This rank's block of [0, n).
std::pair<int64_t, int64_t> my_block(int64_t n) {
  const int64_t r = mpi::rank(), size = mpi::size();
  return {n * r / size, n * (r + 1) / size};
}

// Rows of a 2-D float tensor from every rank, concatenated in rank order on rank 0 (others get
// an undefined tensor).
at::Tensor gather_rows(const at::Tensor& mine, int64_t cols) {
  at::Tensor t = mine.defined() ? mine.to(at::kFloat).contiguous() : at::empty({0, cols}, at::kFloat);
  std::string bytes(reinterpret_cast<const char*>(t.data_ptr<float>()), t.numel() * sizeof(float));
  std::vector<std::string> all = mpi::gather_strings(bytes);
  if (mpi::rank() != 0) return {};
  std::vector<at::Tensor> parts;
  for (const auto& s : all) {
    const int64_t rows = static_cast<int64_t>(s.size() / sizeof(float)) / cols;
    at::Tensor p = at::empty({rows, cols}, at::kFloat);
    if (rows) std::memcpy(p.data_ptr<float>(), s.data(), s.size());
    parts.push_back(p);
  }
  return at::cat(parts, 0);
}

// A flip decision per real image that does not depend on the rank layout.
bool flip_of(uint64_t seed, int64_t index) {
  return std::stoi(hash_bytes(std::to_string(seed) + ":" + std::to_string(index)).substr(0, 1), nullptr, 16) % 2 == 1;
}

struct GroundTruth {
  at::Tensor rgb;     // (K, 3, S, S) in [-1, 1]
  at::Tensor depth;   // (K, S, S)
  at::Tensor normal;  // (K, S, S, 3)
  at::Tensor mask;    // (K, S, S) float 0/1
  at::Tensor pose;    // (K, 2) pitch, yaw
  at::Tensor light;   // (K, 4)
  std::string source;
};

// Samples [first, end) of the K held-out ground-truth images.
GroundTruth held_out_synth(const data::SynthParams& base, int64_t S, int64_t first, int64_t end) {
  data::SynthParams p = base;
  p.size = static_cast<int>(S);
  const int64_t n = end - first;
  GroundTruth g;
  g.rgb = at::empty({n, S, S, 3}, at::kByte);
  g.depth = at::empty({n, S, S}, at::kFloat);
  g.normal = at::empty({n, S, S, 3}, at::kFloat);
  g.mask = at::empty({n, S, S}, at::kByte);
  g.pose = at::empty({n, 2}, at::kFloat);
  g.light = at::empty({n, 4}, at::kFloat);
  for (int64_t k = 0; k < n; ++k) {
    const data::SynthSample s = data::render_synth_sample(p, base.count + first + k);
    std::memcpy(g.rgb[k].data_ptr<uint8_t>(), s.rgb.rgb.data(), s.rgb.rgb.size());
    std::memcpy(g.depth[k].data_ptr<float>(), s.depth.data(), s.depth.size() * sizeof(float));
    std::memcpy(g.normal[k].data_ptr<float>(), s.normal.data(), s.normal.size() * sizeof(float));
    std::memcpy(g.mask[k].data_ptr<uint8_t>(), s.mask.data(), s.mask.size());
    g.pose[k][0] = static_cast<float>(s.pose.pitch);
    g.pose[k][1] = static_cast<float>(s.pose.yaw);
    for (int c = 0; c < 4; ++c) g.light[k][c] = s.light[c];
  }
  g.rgb = g.rgb.permute({0, 3, 1, 2}).to(at::kFloat) / 127.5 - 1;
  g.mask = g.mask.to(at::kFloat);
  return g;
}

// The last K samples of the shards, [first, end) of them, resized (nearest) to S.
GroundTruth shard_ground_truth(data::ShardReader& reader, int64_t K, int64_t S, int64_t first, int64_t end) {
  const int64_t n = end - first, start = reader.count() - K + first, T = reader.store_size();
  GroundTruth g;
  at::Tensor rgb = at::empty({n, T, T, 3}, at::kByte), depth = at::empty({n, T, T}, at::kFloat),
             normal = at::empty({n, T, T, 3}, at::kFloat), mask = at::empty({n, T, T}, at::kByte),
             pose = at::empty({n, 2}, at::kFloat), light = at::empty({n, 4}, at::kFloat);
  if (n > 0) {
    reader.read("images", start, n, rgb.data_ptr());
    reader.read("depth", start, n, depth.data_ptr());
    reader.read("normal", start, n, normal.data_ptr());
    reader.read("mask", start, n, mask.data_ptr());
    reader.read("pose", start, n, pose.data_ptr());
    reader.read("light", start, n, light.data_ptr());
  }
  g.rgb = shard_images_to_nchw(rgb, S).to(at::kFloat) / 127.5 - 1;
  g.depth = shard_images_to_nchw(depth.unsqueeze(-1), S).squeeze(1);
  g.normal = shard_images_to_nchw(normal, S).permute({0, 2, 3, 1}).contiguous();
  g.mask = shard_images_to_nchw(mask.unsqueeze(-1), S).squeeze(1).to(at::kFloat);
  g.pose = pose.flip({1}).contiguous();  // stored (yaw, pitch); the generator takes (pitch, yaw)
  g.light = light;
  return g;
}

void shape_accuracy(model::GeneratorImpl& gen, const model::RenderOptions& render,
                    const std::string& shard_dir, const std::optional<data::SynthParams>& synth,
                    const EvalOptions& o, EvalResult& r) {
  data::ShardReader reader(shard_dir);
  const bool has_truth = reader.has("depth") && reader.has("normal") && reader.has("mask") &&
                         reader.has("pose") && reader.has("light");
  if (!synth && !has_truth) {
    r.skipped["shape"] = "the data set has no ground-truth depth and normals (only the synthetic set has)";
    return;
  }
  const int64_t K = synth ? o.shape_images : std::min(o.shape_images, reader.count());
  const int64_t S = o.shape_img_size;
  model::RenderOptions opt = render;
  opt.img_size = S;
  const auto [first, end] = my_block(K);
  GroundTruth truth = synth ? held_out_synth(*synth, S, first, end)
                            : shard_ground_truth(reader, K, S, first, end);

  // Per image: side, mad, fit mse, valid, mad of depth normals, then the best flat plane's
  // mad, mad of depth normals and side (flat_plane.h).
  constexpr int64_t kCols = 8;
  std::vector<float> mine;
  double empty_pixels = 0, mask_pixels = 0;
  // Counted in Adam steps, not images: one batch of images is minutes of work.
  const int64_t batches = (end - first + o.batch_size - 1) / o.batch_size;
  Progress progress("invert", batches * o.inversion.steps, "step");
  for (int64_t b = 0; b < end - first; b += o.batch_size) {
    stop_point("the shape inversion");
    const int64_t e = std::min(end - first, b + o.batch_size);
    InversionOptions inv = o.inversion;
    inv.seed = o.inversion.seed + static_cast<uint64_t>(first + b);
    inv.on_step = [&] {
      stop_point("the shape inversion");
      progress.advance();
    };
    InversionResult res = invert_generator(gen, truth.rgb.slice(0, b, e), truth.pose.slice(0, b, e),
                                           truth.light.slice(0, b, e), opt, inv);
    at::Tensor mask = erode_mask(truth.mask.slice(0, b, e));
    for (int64_t k = 0; k < e - b; ++k) {
      const float fit = torch::mse_loss(res.rgb[k], truth.rgb[b + k]).item<float>();
      if (mask[k].sum().item<double>() < 1) {
        mine.insert(mine.end(), {0.f, 0.f, fit, 0.f, 0.f, 0.f, 0.f, 0.f});
        continue;
      }
      at::Tensor m = mask.slice(0, k, k + 1);
      // Where the generator renders no surface its composited normal is zero: such a pixel
      // counts as 90 degrees off (no information), and the fraction of them is reported.
      const at::Tensor truth_n = truth.normal.slice(0, b + k, b + k + 1);
      at::Tensor pred_n = res.normal.slice(0, k, k + 1);
      const at::Tensor empty = pred_n.norm(2, -1, true) < 1e-6;
      empty_pixels += (empty.squeeze(-1) & m).sum().item<double>();
      mask_pixels += m.sum().item<double>();
      at::Tensor ortho = at::cross(truth_n, at::tensor({1.f, 0.f, 0.f}).expand_as(truth_n), -1);
      const at::Tensor ortho_y = at::cross(truth_n, at::tensor({0.f, 1.f, 0.f}).expand_as(truth_n), -1);
      ortho = at::where(ortho.norm(2, -1, true) < 1e-3, ortho_y, ortho);
      pred_n = at::where(empty, ortho, pred_n);
      const double side = scale_invariant_depth_error(res.depth.slice(0, k, k + 1),
                                                      truth.depth.slice(0, b + k, b + k + 1), m)[0].item<double>();
      const double mad = mean_angle_deviation(pred_n, truth_n, m)[0].item<double>();
      // Unsup3d's MAD: normals of the predicted and of the true depth map, both by the same
      // finite differences (the eroded mask keeps only pixels whose neighbours are inside).
      const at::Tensor truth_d = truth.depth.slice(0, b + k, b + k + 1);
      const at::Tensor truth_depth_n = normals_from_depth(truth_d, opt.fov);
      const double mad_depth =
          mean_angle_deviation(normals_from_depth(res.depth.slice(0, k, k + 1), opt.fov), truth_depth_n, m)[0]
              .item<double>();
      const double plane_mad = best_plane_angle(truth_n, m)[0].item<double>();
      const double plane_mad_depth = best_plane_angle(truth_depth_n, m)[0].item<double>();
      const double plane_side = plane_fit_depth_error(truth_d, m, opt.fov)[0].item<double>();
      mine.insert(mine.end(), {static_cast<float>(side), static_cast<float>(mad), fit, 1.f,
                               static_cast<float>(mad_depth), static_cast<float>(plane_mad),
                               static_cast<float>(plane_mad_depth), static_cast<float>(plane_side)});
    }
  }
  progress.finish();
  at::Tensor local = at::from_blob(mine.data(), {static_cast<int64_t>(mine.size()) / kCols, kCols}, at::kFloat).clone();
  at::Tensor all = gather_rows(local, kCols);
  double counts[2] = {empty_pixels, mask_pixels};
  mpi::allreduce_sum(counts, 2);
  if (mpi::rank() != 0) return;
  at::Tensor valid = all.select(1, 3) > 0.5;
  const int64_t n_valid = valid.sum().item<int64_t>();
  r.settings["shape"] = {{"images", K},
                         {"img_size", S},
                         {"steps", o.inversion.steps},
                         {"lr", o.inversion.lr},
                         {"normals", inversion_normals_name(o.inversion.normals)},
                         {"batch_size", o.batch_size},
                         {"source", synth ? "held-out synthetic samples (indices count .. count+K-1)"
                                          : "the last K samples of the shards"},
                         {"num_steps", opt.num_steps},
                         {"delta", opt.delta},
                         {"mask", "ground-truth mask eroded by one pixel (Unsup3d)"}};
  r.metrics["shape_fit_mse"] = all.select(1, 2).to(at::kDouble).mean().item<double>();
  r.metrics["shape_images"] = n_valid;
  r.metrics["shape_empty_fraction"] = counts[1] > 0 ? counts[0] / counts[1] : 0.0;
  if (n_valid == 0) {
    r.skipped["shape"] = "no held-out image has a non-empty eroded mask at this size";
    return;
  }
  const ShapeAccuracy acc = summarize_shape_accuracy(all.select(1, 0).index({valid}).to(at::kDouble),
                                                     all.select(1, 1).index({valid}).to(at::kDouble),
                                                     all.select(1, 4).index({valid}).to(at::kDouble));
  r.metrics["depth_sie"] = acc.side_mean;
  r.metrics["depth_sie_std"] = acc.side_std;
  r.metrics["normal_angle_deg"] = acc.mad_mean;
  r.metrics["normal_angle_deg_std"] = acc.mad_std;
  r.metrics["normal_angle_depth_deg"] = acc.mad_depth_mean;
  r.metrics["normal_angle_depth_deg_std"] = acc.mad_depth_std;
  // The floor of meaning for these numbers, from the same images and masks (flat_plane.h).
  const ShapeAccuracy plane = summarize_shape_accuracy(all.select(1, 7).index({valid}).to(at::kDouble),
                                                       all.select(1, 5).index({valid}).to(at::kDouble),
                                                       all.select(1, 6).index({valid}).to(at::kDouble));
  r.reference_points["flat_plane"] = {{"depth_sie", plane.side_mean},
                                      {"normal_angle_deg", plane.mad_mean},
                                      {"normal_angle_depth_deg", plane.mad_depth_mean}};
  r.settings["shape"]["flat_plane"] =
      "per image: the unit normal of least mean angle to its true normals (and, separately, to its true depth "
      "map's normals); depth_sie of the plane fitted by total least squares to its true back-projected points";
}

void inception_metrics(model::GeneratorImpl& gen, const model::RenderOptions& render,
                       const model::LightPrior* prior, const std::string& shard_dir,
                       const EvalOptions& o, EvalResult& r) {
  const FidInception net = load_fid_inception(o.inception_weights);
  const bool want_is = o.metrics.is;
  // Fakes: z and light per batch from a stream seeded by (seed, first index), so the images do
  // not depend on the number of ranks.
  const auto [first, end] = my_block(o.num_images);
  std::vector<at::Tensor> pools, logits;
  {
    Progress progress("fakes", end - first, "img");
    torch::NoGradGuard no_grad;
    for (int64_t b = first; b < end; b += o.batch_size) {
      stop_point("the fakes' Inception features");
      const int64_t n = std::min(end, b + o.batch_size) - b;
      model::Draws draws = model::seeded_draws(o.seed * 1000003ULL + static_cast<uint64_t>(b));
      at::Tensor z = draws.normal(model::Draw::latent, {n, gen.cfg.z_dim});
      at::Tensor light = prior ? model::sample_light(*prior, n, draws) : at::Tensor();
      at::Tensor images = generator_output_to_uint8(gen.staged_forward(z, light, render, draws).rgb);
      if (o.jpeg) images = jpeg_round_trip(images, o.jpeg_quality);
      InceptionFeatures f = net.features(images, o.input);
      pools.push_back(f.pool);
      if (want_is) logits.push_back(f.logits_unbiased);
      progress.advance(n);
    }
    progress.finish();
  }
  at::Tensor fake_pool = gather_rows(pools.empty() ? at::Tensor() : at::cat(pools), 2048);
  at::Tensor fake_logits = want_is ? gather_rows(logits.empty() ? at::Tensor() : at::cat(logits), 1008) : at::Tensor();

  at::Tensor real_pool;
  if (o.metrics.fid || o.metrics.kid) {
    data::ShardReader reader(shard_dir);
    const int64_t n_real = std::min(o.real_images, reader.count());
    const json key = {{"dataset", reader.manifest().value("content_hash", shard_dir)},
                      {"img_size", render.img_size},
                      {"count", n_real},
                      {"seed", o.seed},
                      {"input", inception_input_name(o.input)},
                      {"jpeg", o.jpeg ? o.jpeg_quality : 0},
                      {"weights", hash_file(o.inception_weights)}};
    const std::string path = feature_cache_path(o.cache_dir, key);
    uint8_t hit = 0;
    if (mpi::rank() == 0) {
      if (auto cached = read_feature_cache(path, key)) {
        real_pool = *cached;
        hit = 1;
      }
    }
    mpi::broadcast(&hit, 1);
    if (!hit) {
      // The subset: the first n_real of a seeded permutation, as the reference's shuffled loader.
      const std::vector<int64_t> order = NumpyRandomState(static_cast<uint32_t>(o.seed)).permutation(reader.count());
      const auto [rf, re] = my_block(n_real);
      std::vector<at::Tensor> parts;
      Progress progress("reals", re - rf, "img");
      torch::NoGradGuard no_grad;
      const int64_t T = reader.store_size();
      for (int64_t b = rf; b < re; b += o.batch_size) {
        stop_point("the real images' Inception features");
        const int64_t n = std::min(re, b + o.batch_size) - b;
        at::Tensor raw = at::empty({n, T, T, 3}, at::kByte), flip = at::empty({n}, at::kBool);
        for (int64_t k = 0; k < n; ++k) {
          reader.read("images", order[b + k], 1, raw[k].data_ptr());
          flip[k] = flip_of(o.seed, order[b + k]);
        }
        at::Tensor images = shard_images_to_nchw(raw, render.img_size, flip);
        if (o.jpeg) images = jpeg_round_trip(images, o.jpeg_quality);
        parts.push_back(net.features(images, o.input).pool);
        progress.advance(n);
      }
      progress.finish();
      real_pool = gather_rows(parts.empty() ? at::Tensor() : at::cat(parts), 2048);
      if (mpi::rank() == 0) write_feature_cache(path, key, real_pool);
    }
    if (mpi::rank() == 0)
      r.settings["real"] = {{"images", n_real}, {"cache", path}, {"cache_hit", hit == 1},
                            {"dataset", key["dataset"]}, {"flip", "random, seeded per image"},
                            {"resize", "torch nearest from the stored size"}};
  }
  if (mpi::rank() != 0) return;

  r.settings["inception"] = {{"weights", o.inception_weights},
                             {"input", inception_input_name(o.input)},
                             {"jpeg_round_trip", o.jpeg},
                             {"jpeg_quality", o.jpeg_quality}};
  r.settings["fake_images"] = fake_pool.size(0);
  if (o.metrics.fid) {
    const FidTerms f = frechet_distance(feature_statistics(fake_pool), feature_statistics(real_pool));
    r.metrics["fid"] = f.fid;
  }
  if (o.metrics.kid) {
    KidOptions k = o.kid;
    k.subset_size = std::min({k.subset_size, fake_pool.size(0), real_pool.size(0)});
    const KidResult res = kernel_inception_distance(fake_pool, real_pool, k);
    r.metrics["kid_mean"] = res.mean;
    r.metrics["kid_std"] = res.std;
    r.settings["kid"] = {{"subsets", k.subsets}, {"subset_size", k.subset_size},
                         {"subset_size_asked", o.kid.subset_size}, {"degree", k.degree},
                         {"coef0", k.coef0}, {"seed", k.seed}};
  }
  if (o.metrics.is) {
    InceptionScoreOptions is = o.is;
    is.splits = std::min<int64_t>(is.splits, fake_logits.size(0));
    const InceptionScoreResult res = inception_score(fake_logits, is);
    r.metrics["is_mean"] = res.mean;
    r.metrics["is_std"] = res.std;
    r.settings["is"] = {{"splits", is.splits}, {"seed", is.seed}};
  }
}


// The learning measure's real images: 2m of them, this rank's block [first, end), as 8-bit
// images at the eval's size and (where the set has them) their masks.
struct RealBlock {
  at::Tensor images;  // (n, 3, S, S) in [-1, 1]
  at::Tensor masks;   // (n, S, S) 0/1, or undefined
};

// Held-out synthetic samples count+first .. count+end-1, rendered at the set's stored size and
// brought to S as the loader brings the shards (seeded flip, torch-nearest resize): the same
// pixels training would have seen of them.
RealBlock held_out_reals(const data::SynthParams& p, int64_t S, uint64_t seed, int64_t first, int64_t end) {
  const int64_t n = end - first, T = p.size;
  at::Tensor rgb = at::empty({n, T, T, 3}, at::kByte), mask = at::empty({n, T, T, 1}, at::kByte),
             flip = at::empty({n}, at::kBool);
  for (int64_t k = 0; k < n; ++k) {
    const int64_t index = p.count + first + k;
    const data::SynthSample s = data::render_synth_sample(p, index);
    std::memcpy(rgb[k].data_ptr<uint8_t>(), s.rgb.rgb.data(), s.rgb.rgb.size());
    std::memcpy(mask[k].data_ptr<uint8_t>(), s.mask.data(), s.mask.size());
    flip[k] = flip_of(seed, index);
  }
  return {shard_images_to_nchw(rgb, S, flip).to(at::kFloat) / 127.5 - 1,
          shard_images_to_nchw(mask, S, flip).squeeze(1).to(at::kFloat)};
}

// Items order[first .. end-1] of the shards (a seeded subset; not held out), flipped and resized
// the same way.
RealBlock shard_reals(data::ShardReader& reader, const std::vector<int64_t>& order, int64_t S, uint64_t seed,
                      int64_t first, int64_t end, bool masks) {
  const int64_t n = end - first, T = reader.store_size();
  at::Tensor rgb = at::empty({n, T, T, 3}, at::kByte), mask = at::empty({n, T, T, 1}, at::kByte),
             flip = at::empty({n}, at::kBool);
  for (int64_t k = 0; k < n; ++k) {
    reader.read("images", order[first + k], 1, rgb[k].data_ptr());
    if (masks) reader.read("mask", order[first + k], 1, mask[k].data_ptr());
    flip[k] = flip_of(seed, order[first + k]);
  }
  RealBlock b;
  b.images = shard_images_to_nchw(rgb, S, flip).to(at::kFloat) / 127.5 - 1;
  if (masks) b.masks = shard_images_to_nchw(mask, S, flip).squeeze(1).to(at::kFloat);
  return b;
}

// Image features and silhouette vectors of m generated images, gathered to rank 0. Batches are
// fixed by the batch size (batch k holds images k*bs ..) and dealt to ranks in contiguous
// blocks; each batch's latents, lights and camera are seeded by its first index as the
// Inception fakes' are, so the images depend on neither the rank count nor the generator:
// every generator is shown the same draws.
LearningSet generated_set(model::GeneratorImpl& gen, const model::RenderOptions& render,
                          const model::LightPrior* prior, const RandomFeatureMap& map, int64_t m,
                          int64_t sil_size, bool silhouettes, const EvalOptions& o, const char* label) {
  const int64_t bs = o.batch_size;
  const auto [first_batch, end_batch] = my_block((m + bs - 1) / bs);
  const int64_t first = first_batch * bs, end = std::min(m, end_batch * bs);
  std::vector<at::Tensor> feats, sils;
  Progress progress(label, std::max<int64_t>(0, end - first), "img");
  torch::NoGradGuard no_grad;
  model::Tiling tiling;
  tiling.keep_samples = silhouettes;
  for (int64_t b = first; b < end; b += bs) {
    stop_point("the learning measure's generated images");
    const int64_t n = std::min(end, b + bs) - b;
    model::Draws draws = model::seeded_draws(o.seed * 1000003ULL + static_cast<uint64_t>(b));
    at::Tensor z = draws.normal(model::Draw::latent, {n, gen.cfg.z_dim});
    at::Tensor light = prior ? model::sample_light(*prior, n, draws) : at::Tensor();
    model::GeneratorOutput out = gen.staged_forward(z, light, render, draws, {}, tiling);
    // Saved as 8-bit images, as the reals are.
    const at::Tensor images = generator_output_to_uint8(out.rgb).to(at::kFloat) / 127.5 - 1;
    feats.push_back(random_features(map, images));
    if (silhouettes) sils.push_back(silhouette_vectors(opacity_from_weights(out.weights, render.img_size), sil_size));
    progress.advance(n);
  }
  progress.finish();
  LearningSet set;
  set.features = gather_rows(feats.empty() ? at::Tensor() : at::cat(feats), kRandomFeatureWidth);
  if (silhouettes) set.silhouettes = gather_rows(sils.empty() ? at::Tensor() : at::cat(sils), sil_size * sil_size);
  return set;
}

void learning_metrics(model::GeneratorImpl& gen, model::GeneratorImpl* untrained,
                      const model::RenderOptions& render, const model::LightPrior* prior,
                      const std::string& shard_dir, const std::optional<data::SynthParams>& synth,
                      const EvalOptions& o, EvalResult& r) {
  const int64_t S = render.img_size;
  if (S < 8) {
    r.skipped["learning"] = fmt::format("img_size {} is below the 8 px the random feature map needs", S);
    return;
  }
  data::ShardReader reader(shard_dir);
  const bool has_masks = synth || reader.has("mask");
  // Reals: 2m, halves A and B. From the shards (no synth parameters) at most their count.
  const int64_t m = synth ? o.learning_images : std::min(o.learning_images, reader.count() / 2);
  if (m < 2) {
    r.skipped["learning"] = fmt::format("needs at least 2 images per set; learning_images {} and {} real images give {}",
                                        o.learning_images, reader.count(), m);
    return;
  }
  // With last_back the leftover weight goes to the last sample, so every ray sums to 1 and
  // the opacity says nothing.
  std::string no_silhouette;
  if (!has_masks) no_silhouette = "the data set has no ground-truth masks (only the synthetic set has)";
  else if (render.last_back) no_silhouette = "last_back puts every ray's leftover weight on its last sample: opacity is 1 everywhere";
  const bool silhouettes = no_silhouette.empty();
  const int64_t sil_size = std::min(o.silhouette_size, S);
  const RandomFeatureMap map = make_random_feature_map();

  LearningSet real_a, real_b;
  {
    const auto [first, end] = my_block(2 * m);
    std::vector<int64_t> order;
    if (!synth) order = NumpyRandomState(static_cast<uint32_t>(o.seed)).permutation(reader.count());
    std::vector<at::Tensor> feats, sils;
    Progress progress("learning reals", end - first, "img");
    torch::NoGradGuard no_grad;
    for (int64_t b = first; b < end; b += o.batch_size) {
      stop_point("the learning measure's real images");
      const int64_t e = std::min(end, b + o.batch_size);
      const RealBlock block = synth ? held_out_reals(*synth, S, o.seed, b, e)
                                    : shard_reals(reader, order, S, o.seed, b, e, silhouettes);
      feats.push_back(random_features(map, block.images));
      if (silhouettes) sils.push_back(silhouette_vectors(block.masks, sil_size));
      progress.advance(e - b);
    }
    progress.finish();
    const at::Tensor f = gather_rows(feats.empty() ? at::Tensor() : at::cat(feats), kRandomFeatureWidth);
    const at::Tensor s = silhouettes ? gather_rows(sils.empty() ? at::Tensor() : at::cat(sils), sil_size * sil_size)
                                     : at::Tensor();
    if (mpi::rank() == 0) {
      real_a = {f.slice(0, 0, m), silhouettes ? s.slice(0, 0, m) : at::Tensor()};
      real_b = {f.slice(0, m, 2 * m), silhouettes ? s.slice(0, m, 2 * m) : at::Tensor()};
    }
  }
  const LearningSet fakes = generated_set(gen, render, prior, map, m, sil_size, silhouettes, o, "learning fakes");
  LearningSet fresh;
  if (untrained) fresh = generated_set(*untrained, render, prior, map, m, sil_size, silhouettes, o, "untrained fakes");
  if (mpi::rank() != 0) return;

  KidOptions kid = o.learning_kid;
  if (kid.subset_size <= 0) kid.subset_size = std::max<int64_t>(2, m / 2);
  kid.subset_size = std::min(kid.subset_size, m);
  const LearningMeasure lm = learning_measure(fakes, untrained ? &fresh : nullptr, real_a, real_b, kid);
  const nlohmann::json generated = learning_distances_json(lm.generated);
  for (const auto& [k, v] : generated.items()) r.metrics[k] = v;
  r.reference_points["real_vs_real"] = learning_distances_json(lm.real_vs_real);
  if (lm.untrained) r.reference_points["untrained"] = learning_distances_json(*lm.untrained);
  if (!silhouettes) r.skipped["silhouette_kid"] = no_silhouette;
  const std::string no_score =
      untrained ? "the untrained generator scores no worse than real-vs-real: this distance cannot tell them apart"
                : "no untrained generator to set the 0% point";
  if (lm.score_features) r.metrics["learning_score_features"] = *lm.score_features;
  else r.skipped["learning_score_features"] = no_score;
  if (silhouettes) {
    if (lm.score_silhouette) r.metrics["learning_score_silhouette"] = *lm.score_silhouette;
    else r.skipped["learning_score_silhouette"] = no_score;
  }
  if (lm.score) r.metrics["learning_score"] = *lm.score;
  else r.skipped["learning_score"] = no_score;
  r.settings["learning"] = {
      {"images", m},
      {"img_size", S},
      {"reals", synth ? "held-out synthetic samples (indices count .. count+2m-1) at the set's size, seeded flip, "
                        "nearest resize; half A (first m) against half B"
                      : "the first 2m of a seeded permutation of the shards (not held out); half A against half B"},
      {"reference", "every distance is to half B of the reals"},
      {"fakes", "latents and lights of the first m Inception fakes (seed), saved as 8-bit"},
      {"untrained", untrained ? "given: a fresh generator of the same curriculum" : "none"},
      {"feature_map", {{"kind", "random_features: 3 seeded zero-sum 3x3 conv + ReLU layers, pooled, plus 4x4 colour"},
                       {"seed", map.seed}, {"width", kRandomFeatureWidth}, {"max_size", kRandomFeatureMaxSize}}},
      {"silhouette", silhouettes ? nlohmann::json{{"generated", "opacity = sum of each ray's weights"},
                                                 {"real", "ground-truth mask"},
                                                 {"size", sil_size}}
                                 : nlohmann::json(no_silhouette)},
      {"kid", {{"subsets", kid.subsets}, {"subset_size", kid.subset_size}, {"degree", kid.degree},
               {"coef0", kid.coef0}, {"seed", kid.seed}}},
      {"score", "(untrained - value) / (untrained - real_vs_real) per distance; learning_score their mean"}};
}
}  // namespace

EvalResult evaluate(model::GeneratorImpl& generator, const model::RenderOptions& render,
                    const model::LightPrior* prior, const std::string& shard_dir,
                    const std::optional<data::SynthParams>& synth, const EvalOptions& o,
                    model::GeneratorImpl* untrained) {
  EvalResult r;
  const bool inception = o.metrics.fid || o.metrics.kid || o.metrics.is;
  if (inception && o.inception_weights.empty()) {
    if (!o.metrics.automatic) throw ConfigError(o.inception_missing);
    for (const char* m : {"fid", "kid", "is"}) r.skipped[m] = o.inception_missing;
  } else if (inception) {
    inception_metrics(generator, render, prior, shard_dir, o, r);
  }
  if (o.metrics.shape) shape_accuracy(generator, render, shard_dir, synth, o, r);
  if (o.metrics.learning) learning_metrics(generator, untrained, render, prior, shard_dir, synth, o, r);
  r.settings["render"] = {{"img_size", render.img_size}, {"psi", render.psi},
                          {"num_steps", render.num_steps}, {"delta", render.delta},
                          {"nerf_noise", render.nerf_noise}, {"hierarchical_sample", render.hierarchical_sample},
                          {"camera_h_stddev", render.camera.h_stddev}, {"camera_v_stddev", render.camera.v_stddev}};
  r.settings["num_images"] = o.num_images;
  r.settings["real_images"] = o.real_images;
  r.settings["batch_size"] = o.batch_size;
  r.settings["seed"] = o.seed;
  r.settings["ranks"] = mpi::size();
  return r;
}

}  // namespace sg::metrics
