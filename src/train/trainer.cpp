#include "train/trainer.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/exit_code.h"
#include "core/log.h"
#include "core/orphan_temps.h"
#include "core/run_lock.h"
#include "core/progress.h"
#include "core/signals.h"
#include "data/loader.h"
#include "model/block_cache.h"
#include "mpi/mpi.h"
#include "train/checkpoint.h"
#include "weights/ema_check.h"
#include "train/data_silhouette.h"
#include "core/rank_device.h"
#include "mpi/rank_threads.h"
#include "train/grad_sync.h"
#include "train/light_source.h"
#include "train/loss_plot.h"
#include "train/model_setup.h"
#include "train/samples.h"
#include "train/train_step.h"
#include "weights/ema.h"
#include "weights/state_dict.h"

namespace fs = std::filesystem;

namespace sg::train {

namespace {

using Clock = std::chrono::steady_clock;

// Each rank's random stream: a function of (seed, rank, rollbacks), far apart for neighbours.
uint64_t stream_seed(uint64_t seed, int rank, int64_t rollbacks) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(rank + 1) * 0xBF58476D1CE4E5B9ull +
               static_cast<uint64_t>(rollbacks) * 0x94D049BB133111EBull;
  x ^= x >> 31;
  return x & 0x7FFFFFFFFFFFFFFFull;
}

torch::Device parse_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available())
      throw ConfigError("train: device '" + name + "' asked for, but this LibTorch build has no CUDA device "
                        "(Debian's libtorch is CPU-only); use device = \"cpu\"");
    // "cuda" is this rank's own GPU: ranks of one node spread over its devices.
    return torch::Device(rank_device(name, local_rank(), static_cast<int>(torch::cuda::device_count())));
  }
  throw ConfigError("train: device must be \"cpu\" or \"cuda[:N]\", got '" + name + "'");
}

// What the loss plot draws, kept in the checkpoint so a resumed run plots its whole history:
// per step the losses and discriminator scores; per sample interval the preview's opacities
// (inside and outside the data's silhouette) and the density head's scale. Checkpoints written
// before the sample series existed lack them and resume with them empty.
struct History {
  std::vector<double> step, d, g, depth, real, fake;
  std::vector<double> sample_step, opacity_in, opacity_out, density_scale;
  nlohmann::json to_json() const {
    return {{"step", step},         {"d", d},                   {"g", g},
            {"depth", depth},       {"real", real},             {"fake", fake},
            {"sample_step", sample_step}, {"opacity_in", opacity_in}, {"opacity_out", opacity_out},
            {"density_scale", density_scale}};
  }
  void from_json(const nlohmann::json& j) {
    auto get = [&](const char* k, std::vector<double>& v) {
      v.clear();
      if (j.contains(k))
        for (const auto& x : j.at(k)) v.push_back(x.is_null() ? NAN : x.get<double>());
    };
    get("step", step), get("d", d), get("g", g), get("depth", depth), get("real", real), get("fake", fake);
    get("sample_step", sample_step), get("opacity_in", opacity_in), get("opacity_out", opacity_out);
    get("density_scale", density_scale);
    // Per-step series from before "real"/"fake" were kept: pad so every series matches `step`.
    real.resize(step.size(), NAN), fake.resize(step.size(), NAN);
  }
};

// The checkpoint every rank will read: rank 0 chooses (verifying hashes), the rest follow.
std::optional<CheckpointInfo> agreed_checkpoint(const std::string& train_dir) {
  std::string dir;
  if (mpi::rank() == 0)
    if (auto c = find_latest_checkpoint(train_dir, true)) dir = c->dir;
  mpi::broadcast(dir);
  if (dir.empty()) return std::nullopt;
  return resolve_checkpoint(dir);
}

std::string stage_summary(const config::Resolved& r) {
  return fmt::format("stage {} ({} px, batch {} x split {}, N {})", r.stage.start, r.stage.img_size,
                     r.stage.batch_size, r.stage.batch_split, r.stage.num_steps);
}

}  // namespace

int run_training(const TrainOptions& o) {
  // The depth loss's weights are settled before anything starts: "l1+lpips" without them is
  // refused rather than trained as another objective.
  LpipsWeightFiles lpips_files;
  Lpips lpips;
  {
    const config::Globals& g = o.curriculum.globals;
    const LpipsWeightFiles named{o.lpips_weights, o.lpips_backbone, o.lpips_heads};
    if (g.surf_track && g.depth_loss == "l1+lpips") {
      const LpipsLookup found = find_lpips_weights(named);
      if (!found.files.complete()) throw ConfigError(lpips_missing_message(o.curriculum.file, found));
      lpips_files = found.files;
      // Read now, so that a file of the wrong kind is a bad option too (exit 2), not a failed run.
      try {
        lpips = load_lpips(lpips_files);
      } catch (const Error& e) {
        if (e.code != ExitCode::failed) throw;
        throw ConfigError(std::string("LPIPS weights for depth_loss = \"l1+lpips\": ") + e.what());
      }
    } else if (named.complete() || !named.backbone.empty() || !named.heads.empty()) {
      log::warn("train: LPIPS weights given but unused: {}", g.surf_track ? "the curriculum says depth_loss = \"l1\""
                                                                          : "surf_track is off (no depth loss)");
    }
  }
  mpi::init();
  const int rank = mpi::rank(), world = mpi::size();
  log::set_rank(rank, world);
  install_stop_handlers();
  const ThreadChoice threads = mpi::rank_threads(o.threads);
  at::set_num_threads(threads.threads);
  set_openblas_threads(threads.threads);
  const torch::Device device = parse_device(o.device);
  const config::Curriculum& cur = o.curriculum;
  const config::Globals& g = cur.globals;
  const fs::path dir = fs::absolute(o.train_dir);
  // One trainer per directory, however it was started: a second one would interleave
  // checkpoints and prune the first one's. Rank 0 holds the lock; every rank learns the verdict.
  std::unique_ptr<RunLock> lock;
  std::string refused;
  if (rank == 0) {
    try {
      lock = std::make_unique<RunLock>((dir / ".stage.lock").string());  // not an output: graph::list_outputs skips it
    } catch (const BusyError& e) {
      refused = std::string("train: ") + dir.string() + " has another trainer: " + e.what();
    }
  }
  mpi::broadcast(refused);
  if (!refused.empty()) throw BusyError(refused);
  if (rank == 0) {
    create_dirs((dir / "logs").string());
    create_dirs((dir / "samples").string());
    create_dirs(checkpoint_root(dir.string()));
    if (log::jsonl_path().empty()) log::attach_jsonl((dir / "logs" / "train.jsonl").string());
    collect_orphan_temps(dir.string());  // under the lock: what a killed trainer left
  }
  mpi::barrier();
  if (const char* rc = std::getenv("SLURM_RESTART_COUNT"))
    log::info("train: SLURM_RESTART_COUNT={} (this job was requeued {} time(s))", rc, rc);
  const int64_t end = o.stop_step > 0 ? std::min(o.stop_step, cur.end_step) : cur.end_step;
  log::info("train: curriculum {} (ends at step {}{}), {} rank(s) x {} thread(s) ({}), device {}", cur.name,
            cur.end_step, end < cur.end_step ? fmt::format(", stopping at {}", end) : "", world, threads.threads,
            threads.reason, device.str());

  TrainState st;
  const LrPolicy lr{g.unique_lr, o.fix_unique_lr};
  if (g.unique_lr && lr.fix_unique_lr)
    log::info("train: unique_lr fixed: surface net at gen_lr x 10, mapping net at gen_lr x 0.05 x lr_ratio");
  else if (g.unique_lr)
    log::info("train: unique_lr as the reference behaves (spec §12.1): every G parameter at gen_lr x lr_ratio");
  torch::manual_seed(o.seed);
  build_models(st, cur, lr, rank == 0, device);
  st.draws = model::seeded_draws(stream_seed(o.seed, rank, 0));
  std::string prior_file;
  st.prior = find_light_prior(g, o.light_prior, o.synth_dir, &prior_file);
  st.prior.mean = st.prior.mean.to(device);
  st.prior.scale_tril = st.prior.scale_tril.to(device);
  log::info("train: light prior from {}", prior_file);
  if (lpips.defined()) {
    st.lpips = std::move(lpips);
    log::info("train: depth loss = L1 + LPIPS-VGG ({})",
              lpips_files.combined.empty() ? lpips_files.backbone + ", " + lpips_files.heads : lpips_files.combined);
  } else if (g.surf_track) {
    log::info("train: depth_loss = \"l1\" in {}: the depth loss is the L1 term only (the reference's is "
              "\"l1+lpips\")", cur.file);
  }

  History hist;
  int64_t streak = 0, rollbacks = 0;
  data::LoaderState pos;
  auto restore_from = [&](const CheckpointInfo& c) {
    Restored rs = load_checkpoint(st, c, rank);
    if (!rs.rng_restored) {
      log::warn("train: {} has no random stream for rank {} (it was written by {} rank(s)); seeding a fresh one", c.dir,
                rank, c.meta.value("ranks", 0));
      st.draws = model::seeded_draws(stream_seed(o.seed, rank, 1000 + st.step));
    }
    pos = rs.loader;
    rollbacks = rs.trainer.value("rollbacks", int64_t(0));
    streak = 0;
    if (rs.trainer.contains("history")) hist.from_json(rs.trainer["history"]);
    if (c.meta.value("ranks", world) != world)
      log::warn("train: {} was written by {} rank(s), resuming on {}: the data order changes from here", c.dir,
                c.meta.value("ranks", 0), world);
  };
  int64_t last_ckpt = -1;
  if (auto c = agreed_checkpoint(dir.string())) {
    restore_from(*c);
    last_ckpt = st.step;
    log::info("train: resuming from {} (step {})", c->dir, st.step);
  } else {
    if (!o.init.empty()) {
      // The reference's --load_dir (its BFM pretraining): generator weights, non-strict as the
      // reference loads them, and the EMA shadows when ema.pth sits beside the file.
      torch::NoGradGuard ng;
      weights::load_into(*st.G, weights::read_state_dict(o.init), o.init, /*strict=*/false);
      const fs::path p(o.init);
      const std::string stem = p.filename().string();
      const auto cut = stem.rfind("generator");
      const fs::path ema_file = p.parent_path() / ((cut == std::string::npos ? "" : stem.substr(0, cut)) + "ema.pth");
      if (st.ema && fs::exists(ema_file)) {
        const weights::EmaState e = weights::read_ema(ema_file.string());
        // The shadows follow G's parameters() order (model::make_ema); each must have its
        // parameter's shape, or copy_ would fail with LibTorch's trace or silently broadcast.
        std::vector<std::pair<std::string, at::Tensor>> named;
        for (const auto& item : st.G->named_parameters(/*recurse=*/true)) named.emplace_back(item.key(), item.value());
        weights::check_ema_shapes(named, e, ema_file.string());
        for (size_t i = 0; i < e.shadow_params.size(); ++i) {
          st.ema->shadow[i].copy_(e.shadow_params[i]);
          st.ema2->shadow[i].copy_(e.shadow_params[i]);
        }
        st.ema->num_updates = st.ema2->num_updates = std::max<int64_t>(0, e.num_updates);
      }
      log::info("train: generator initialised from {}{}", o.init,
                fs::exists(ema_file) ? " (EMA from " + ema_file.string() + ")" : "");
    }
    broadcast_tensors(st.G->parameters());
    broadcast_tensors(st.D.module().parameters());
    if (st.ema) {
      // EMA shadows start from the (broadcast) initial parameters unless loaded above.
      if (o.init.empty()) {
        st.ema = model::make_ema(st.G->parameters(), 0.999);
        st.ema2 = model::make_ema(st.G->parameters(), 0.9999);
      }
    }
  }
  if (st.step >= end) {
    log::info("train: already at step {} (the end is {}): nothing to do", st.step, end);
    return 0;
  }

  config::Resolved r = cur.at(st.step);
  data::LoaderOptions lo;
  lo.dir = o.data_dir;
  lo.batch_size = r.stage.batch_size;
  lo.img_size = static_cast<int>(r.stage.img_size);
  lo.seed = o.seed;
  lo.rank = rank;
  lo.ranks = world;
  data::Loader loader(lo);
  loader.restore(pos);
  int64_t loader_bs = r.stage.batch_size, loader_size = r.stage.img_size;
  log::info("train: {} samples per rank, {} batches per epoch, {}", loader.subset_size(), loader.batches_per_epoch(),
            stage_summary(r));

  const SampleInputs sample_in = fixed_sample_inputs(o.samples, g.latent_dim, st.prior, o.seed + 0x5A3);
  std::ofstream metrics;
  if (rank == 0) metrics.open(dir / "logs" / "metrics.jsonl", std::ios::app);

  // The data's mean silhouette, where the preview's opacity is measured (read before the loader
  // opens the shards; undefined for data without masks).
  at::Tensor silhouette;
  if (rank == 0 && o.sample_every > 0) silhouette = data_mean_silhouette(o.data_dir, o.sample_size);
  // Discriminator scores since the last sample: their means go into the sample's record.
  double score_real_sum = 0, score_fake_sum = 0;
  int64_t score_n = 0;

  // The EMA generator's preview grid, and the numbers that say whether it draws objects yet.
  auto write_samples = [&](const config::Resolved& at) -> nlohmann::json {
    if (rank != 0 || o.sample_every <= 0) return {};
    const auto params = st.G->parameters();
    model::ema_store(*st.ema, params);
    model::ema_copy_to(*st.ema, params);
    SampleGrid grid;
    try {
      model::RenderOptions opt = training_render_options(at);
      if (o.sample_steps > 0) opt.num_steps = o.sample_steps;
      grid = sample_grid(st.G, sample_in, opt, o.sample_size, st.step, silhouette);
    } catch (...) {
      model::ema_restore(*st.ema, params);
      throw;
    }
    model::ema_restore(*st.ema, params);
    const double scale = density_scale(st.G);  // of the trained weights, which Adam moves
    write_file_atomic((dir / "samples" / (checkpoint_name(st.step) + ".png")).string(), grid.png);
    write_file_atomic((dir / "samples" / "latest.png").string(), grid.png);
    hist.sample_step.push_back(double(st.step));
    hist.opacity_in.push_back(grid.stats.opacity_in);
    hist.opacity_out.push_back(grid.stats.opacity_out);
    hist.density_scale.push_back(scale);
    const nlohmann::json rec = {{"opacity_mean", grid.stats.opacity_mean},
                                {"opacity_in", grid.stats.opacity_in},
                                {"opacity_out", grid.stats.opacity_out},
                                {"density_scale", scale},
                                {"real_score_mean", score_n ? score_real_sum / score_n : NAN},
                                {"fake_score_mean", score_n ? score_fake_sum / score_n : NAN}};
    score_real_sum = score_fake_sum = 0;
    score_n = 0;
    // Losses, then discriminator scores, then opacity on its fixed 0..1 axis, then the density
    // scale: each against its own axis, since their units differ.
    std::vector<Panel> panels(4);
    panels[0].series = {{"D loss", hist.step, hist.d, {200, 30, 30}},
                        {"G loss", hist.step, hist.g, {30, 60, 200}},
                        {"depth loss", hist.step, hist.depth, {30, 150, 30}}};
    panels[1].series = {{"real score", hist.step, hist.real, {200, 120, 0}},
                        {"fake score", hist.step, hist.fake, {120, 0, 200}}};
    panels[2].series = {{"opacity inside", hist.sample_step, hist.opacity_in, {30, 150, 30}},
                        {"opacity outside", hist.sample_step, hist.opacity_out, {200, 30, 30}}};
    panels[2].y_lo = 0, panels[2].y_hi = 1;
    panels[3].series = {{"density scale", hist.sample_step, hist.density_scale, {30, 60, 200}}};
    write_file_atomic((dir / "loss_curve.png").string(), plot_panels_png(panels));
    return rec;
  };
  auto checkpoint = [&]() {
    CheckpointExtras x;
    x.fingerprint = o.fingerprint;
    x.loader = loader.state();
    x.trainer = {{"rollbacks", rollbacks}, {"seed", o.seed}, {"history", hist.to_json()}};
    x.curriculum = &cur;
    x.keep = o.keep;
    const auto t0 = Clock::now();
    const std::string out = save_checkpoint(st, dir.string(), x);
    last_ckpt = st.step;
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    log::info("train: checkpoint {} ({:.2f} s)", out, secs);
    log::event("checkpoint", {{"step", st.step}, {"dir", out}, {"seconds", secs}});
  };

  const int64_t first_step = st.step;
  auto window_start = Clock::now();
  const auto run_start = window_start;
  int64_t window_steps = 0, window_images = 0;
  double last_print = -1e9;
  while (st.step < end) {
    r = cur.at(st.step);
    if (r.done) break;
    if (r.stage.img_size != loader_size || r.stage.batch_size != loader_bs)
      model::trim_block_cache();  // the old stage's block sizes will not come back
    if (r.stage.img_size != loader_size) {
      loader.set_img_size(static_cast<int>(r.stage.img_size));
      loader_size = r.stage.img_size;
      log::info("train: step {}: {}", st.step, stage_summary(r));
    }
    if (r.stage.batch_size != loader_bs) {
      loader.set_batch_size(r.stage.batch_size);
      loader_bs = r.stage.batch_size;
    }
    data::Batch b = loader.next();
    at::Tensor real = at::from_blob(b.data.data(), b.shape, at::kFloat).clone();
    const StepResult res = train_step(st, r, real, lr);
    ++st.step;
    ++window_steps;
    window_images += real.size(0) * world;

    const bool skipped = !res.d_finite || !res.g_finite;
    streak = skipped ? streak + 1 : 0;
    if (skipped)
      log::warn("train: step {}: non-finite {} -> {} step skipped ({} in a row)", st.step - 1, res.bad_term,
                !res.d_finite && !res.g_finite ? "D and G" : (!res.d_finite ? "D" : "G"), streak);
    const model::RenderOptions ro = training_render_options(r);
    if (rank == 0) {
      nlohmann::json m = {{"step", st.step - 1},     {"stage", r.stage.start},      {"img_size", r.stage.img_size},
                          {"d_loss", res.d_loss},    {"g_loss", res.g_loss},        {"depth_loss", res.depth_loss},
                          {"r1", res.r1},            {"d_identity", res.d_identity}, {"g_identity", res.g_identity},
                          {"d_grad_norm", res.d_grad_norm}, {"g_grad_norm", res.g_grad_norm},
                          {"real_score", res.real_score}, {"fake_score", res.fake_score}, {"alpha", res.alpha},
                          {"delta", ro.delta},       {"num_steps", ro.num_steps},   {"l_ratio", ro.l_ratio},
                          {"nerf_noise", ro.nerf_noise}, {"lr_ratio", res.lr_ratio}, {"topk", res.topk},
                          {"d_stepped", res.d_finite}, {"g_stepped", res.g_finite}, {"time", log::now_iso8601()}};
      score_real_sum += res.real_score, score_fake_sum += res.fake_score, ++score_n;
      hist.step.push_back(double(st.step - 1));
      hist.d.push_back(res.d_loss);
      hist.g.push_back(res.g_loss);
      hist.depth.push_back(res.depth_loss);
      hist.real.push_back(res.real_score);
      hist.fake.push_back(res.fake_score);
      // On a sample step the line also carries the preview's numbers (a rolled-back step's
      // weights are those of the last good step, so sampling before the rollback is safe).
      if (o.sample_every > 0 && (st.step % o.sample_every == 0 || st.step == end)) m.update(write_samples(r));
      for (auto it = m.begin(); it != m.end(); ++it)
        if (it->is_number_float() && !std::isfinite(it->get<double>())) *it = nullptr;  // JSON has no NaN
      metrics << m.dump() << '\n' << std::flush;
      // The metrics are the run's record: a write that fails (full disk, quota) stops training
      // with the reason rather than leaving a log with silent holes; the last checkpoint stands.
      if (!metrics)
        throw IoError(fmt::format("cannot write {} at step {}: {}", (dir / "logs" / "metrics.jsonl").string(),
                                  st.step - 1, std::strerror(errno)));
      const auto now = Clock::now();
      const double t = std::chrono::duration<double>(now - run_start).count();
      if (t - last_print >= o.log_seconds || st.step % o.log_every == 0 || st.step == end || st.step == first_step + 1) {
        const double w = std::max(1e-9, std::chrono::duration<double>(now - window_start).count());
        const double its = window_steps / w, imgs = window_images / w;
        log::info("train {}/{} {} px  {:.2f} it/s {:.1f} img/s  ETA {} | D {:.4f} G {:.4f} depth {:.4f} R1 {:.4f} | "
                  "alpha {:.2f} delta {:.3f} N {} topk {}",
                  st.step, end, r.stage.img_size, its, imgs, format_duration((end - st.step) / std::max(its, 1e-9)),
                  res.d_loss, res.g_loss, res.depth_loss, res.r1, res.alpha, ro.delta, ro.num_steps, res.topk);
        log::event("train_progress", {{"step", st.step}, {"end", end}, {"it_per_s", its}, {"img_per_s", imgs}});
        last_print = t;
        window_start = now;
        window_steps = window_images = 0;
      }
    }

    if (streak >= o.nonfinite_limit) {
      ++rollbacks;
      if (rollbacks > o.max_rollbacks)
        throw StageError(fmt::format("train: step {}: {} consecutive non-finite steps after {} rollbacks; giving up "
                                     "(lower the learning rates or grad_clip)",
                                     st.step - 1, streak, o.max_rollbacks));
      auto c = agreed_checkpoint(dir.string());
      if (!c)
        throw StageError(fmt::format("train: step {}: {} consecutive non-finite steps and no checkpoint to roll back to",
                                     st.step - 1, streak));
      const int64_t keep_rollbacks = rollbacks;
      restore_from(*c);
      rollbacks = keep_rollbacks;
      loader.restore(pos);
      r = cur.at(st.step);
      loader.set_img_size(static_cast<int>(r.stage.img_size));
      loader.set_batch_size(r.stage.batch_size);
      loader_size = r.stage.img_size;
      loader_bs = r.stage.batch_size;
      st.draws = model::seeded_draws(stream_seed(o.seed, rank, rollbacks));
      log::warn("train: rolled back to {} (rollback {} of at most {}), random streams reseeded", c->dir, rollbacks,
                o.max_rollbacks);
      log::event("rollback", {{"to_step", st.step}, {"rollbacks", rollbacks}});
      continue;
    }

    if (o.stop_after > 0 && st.step == o.stop_after) request_stop(SIGUSR1);
    const bool stop = mpi::allreduce_or(stop_requested());
    if (stop || st.step % o.ckpt_every == 0 || st.step == end) checkpoint();
    if (stop) {
      log::warn("train: stopped by signal {} after step {}; checkpointed, exiting {} (preempted, rerun to resume)",
                stop_signal(), st.step, to_int(ExitCode::preempted));
      log::event("preempted", {{"step", st.step}, {"signal", stop_signal()}});
      return to_int(ExitCode::preempted);
    }
  }
  if (last_ckpt != st.step) checkpoint();
  // The loop samples its last step; a curriculum that ended early (done) gets its grid here.
  if (o.sample_every > 0 && (hist.sample_step.empty() || hist.sample_step.back() != double(st.step)))
    write_samples(cur.at(std::max<int64_t>(0, st.step - 1)));
  const double total = std::chrono::duration<double>(Clock::now() - run_start).count();
  log::info("train: done at step {} ({} steps in {})", st.step, st.step - first_step, format_duration(total));
  log::event("train_done", {{"step", st.step}, {"seconds", total}});
  return 0;
}

}  // namespace sg::train
