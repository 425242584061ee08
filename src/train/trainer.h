#pragma once
// The training stage (spec §6): the loop around train_step — data, curriculum stages,
// checkpoints, resume, preemption, the non-finite policy, logs, samples and the loss plot.
//
// Stage directory (<run>/train):
//   ckpt/step-XXXXXXX/, LATEST      checkpoint.h / checkpoint_layout.h
//   logs/metrics.jsonl              one JSON object per iteration (rank 0)
//   samples/step-XXXXXXX.png        sample grid every sample_every steps, samples/latest.png
//   loss_curve.png                  refreshed with the samples
//
// Resume: a rerun continues from LATEST (falling back to the newest trusted checkpoint with a
// warning) with every state restored, so interrupted + resumed == uninterrupted, bit for bit.
//
// Preemption: SIGUSR1/USR2/TERM/INT set a flag; after each iteration the ranks all-reduce it,
// and if any rank saw it they all stop after that same iteration, write a checkpoint and the
// caller exits with 75 (ExitCode::preempted), which the Slurm layer requeues.
//
// Non-finite policy: a non-finite loss term or gradient norm (on any rank) skips that
// network's optimizer step on every rank and is logged with the step and the term. After
// `nonfinite_limit` consecutive iterations with a skipped step, all ranks roll back to the last
// checkpoint and reseed their random streams (seed, rank, rollback count) so the same failure
// is not replayed; after `max_rollbacks` rollbacks (or with no checkpoint to go back to) the
// stage fails.
#include <cstdint>
#include <string>

#include "config/curriculum.h"

namespace sg::train {

struct TrainOptions {
  std::string train_dir;          // the stage directory
  std::string data_dir;           // shard directory (manifest.json)
  config::Curriculum curriculum;
  std::string init;               // official generator.pth to start from ("" = random init)
  std::string light_prior;        // "" = curriculum mvn_path, else <synth_dir>/light_prior.pth
  std::string synth_dir;
  // LPIPS-VGG for depth_loss = "l1+lpips" (train/lpips.h): one combined state dict, or
  // torchvision's VGG16 and LPIPS's heads; "" = look in torch's cache. Without them a
  // surface-tracking "l1+lpips" curriculum is refused (ConfigError) before anything is written.
  std::string lpips_weights;
  std::string lpips_backbone;
  std::string lpips_heads;
  int64_t ckpt_every = 100;
  int keep = 3;
  int64_t sample_every = 100;     // 0 = never (except none at the end either)
  int64_t sample_size = 64;
  // Samples per ray of the sample grid (0: training's at that step). The grid is drawn larger
  // than training's images, where the fine samples' random placement shows in the depth map.
  int64_t sample_steps = 0;
  int64_t samples = 8;            // latents in the grid
  uint64_t seed = 0;
  std::string device = "cpu";
  int64_t stop_step = 0;          // 0 = the curriculum's end
  bool fix_unique_lr = false;     // spec §12.1 fixed (default: the reference's behaviour)
  int nonfinite_limit = 3;
  int max_rollbacks = 3;
  int threads = 0;                // 0 = the CPUs this rank may use (mpi/rank_threads.h)
  double log_seconds = 5;         // progress line at most this often (and every log_every steps)
  int64_t log_every = 10;
  std::string fingerprint;        // recorded in meta.json
  // Tests: stop as if signalled once `step` iterations are done (0 = never).
  int64_t stop_after = 0;
};

// Runs (or resumes) training. Returns 0 when the curriculum (or stop_step) is reached, 75
// (ExitCode::preempted) after a signal-triggered checkpoint. Collective over MPI ranks.
int run_training(const TrainOptions& o);

}  // namespace sg::train
