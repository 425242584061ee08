#pragma once
// Writing and reading the trainer's checkpoints in the layout of checkpoint_layout.h:
//   generator.pth, discriminator.pth   state dicts, reference keys (spec §11), Python-loadable
//   ema.pth, ema2.pth                  weights/ema.h's dict form of torch_ema's object
//   optimizer_G.pt, optimizer_D.pt     Adam states (LibTorch archives: step, exp_avg, exp_avg_sq)
//   rng-rank<r>.bin                    each rank's random stream (CPU generator state)
//   trainer.json                       step, each rank's loader position, the non-finite
//                                      streak and rollback count, the loss history, which
//                                      parameters hold a (zeroed) gradient
//   meta.json                          last: step, fingerprint, time, ranks, curriculum, files
// Rank 0 writes into <ckpt>/.tmp-<name>-<pid>, fsyncs every file, renames the directory into
// place, then replaces LATEST by rename, then deletes all but the newest `keep` checkpoints.
// Every rank calls save_checkpoint (the others send rank 0 their random state and position).
#include <nlohmann/json.hpp>
#include <string>

#include "config/curriculum.h"
#include "data/loader.h"
#include "train/checkpoint_layout.h"
#include "train/train_step.h"

namespace sg::train {

struct CheckpointExtras {
  std::string fingerprint;
  data::LoaderState loader;     // this rank's
  nlohmann::json trainer;       // rank 0's trainer.json fields (history, counters, ...)
  const config::Curriculum* curriculum = nullptr;
  int keep = 3;
};

// Collective. Returns the checkpoint directory (on every rank).
std::string save_checkpoint(TrainState& st, const std::string& train_dir, const CheckpointExtras& x);

struct Restored {
  nlohmann::json trainer;       // trainer.json
  data::LoaderState loader;     // this rank's position
  bool rng_restored = false;    // false: the checkpoint had no stream for this rank
};

// Loads `c` into an already built `st` (models, optimizers, EMAs on rank 0, this rank's random
// stream). FormatError naming the file on any mismatch.
Restored load_checkpoint(TrainState& st, const CheckpointInfo& c, int rank);

// Raw bytes of a CPU generator's state, and back.
std::string generator_state(const at::Generator& g);
void set_generator_state(at::Generator& g, const std::string& bytes, const std::string& source);

}  // namespace sg::train
