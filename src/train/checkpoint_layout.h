#pragma once
// Where a training stage keeps its checkpoints, and how readers (resume, render, extract, eval)
// find and trust them. The train stage writes them (train/checkpoint.cpp); this file is the
// contract between that writer and every reader.
//
//   <train_dir>/ckpt/step-0000300/   one complete checkpoint, renamed into place from a
//       generator.pth                temporary directory after every file was fsynced
//       discriminator.pth            state dicts in the reference layout (spec §11), loadable
//       ema.pth  ema2.pth            from Python (torch.load); ema*.pth in weights/ema.h's form
//       ...                          optimizer, RNG, loader and trainer state (the writer's)
//       meta.json                    written last: {"step", "fingerprint", "time", "ranks",
//                                    "curriculum": Curriculum::source_json(),
//                                    "files": {name: {"size", "xxh3"}} of every other file}
//   <train_dir>/LATEST               "step-0000300\n", replaced by rename after the directory
//   <train_dir>/.stage.lock          flock held by the one trainer writing the directory (started
//                                    by `shadegan train` or a train stage); names the holder; not
//                                    a stage output
//
// A checkpoint is trusted when meta.json parses and every file it lists has the recorded size
// (and hash, when asked). LATEST naming an untrusted checkpoint falls back to the newest
// earlier one that is trusted, with a warning naming what was wrong.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace sg::train {

std::string checkpoint_root(const std::string& train_dir);  // <train_dir>/ckpt
std::string checkpoint_name(int64_t step);                  // step-0000300 (7 digits, wider if needed)
std::string checkpoint_dir(const std::string& train_dir, int64_t step);
std::string latest_path(const std::string& train_dir);      // <train_dir>/LATEST

struct CheckpointInfo {
  std::string dir;  // absolute
  int64_t step = 0;
  nlohmann::json meta;
};

// The problem with the checkpoint in `dir` ("" when trusted): a missing or unparsable
// meta.json, a listed file missing, of the wrong size, or (verify_hashes) of the wrong hash.
std::string checkpoint_problem(const std::string& dir, bool verify_hashes);

// Every trusted checkpoint under <train_dir>/ckpt, oldest first (untrusted ones are skipped;
// temporary directories of interrupted writes are ignored).
std::vector<CheckpointInfo> list_checkpoints(const std::string& train_dir, bool verify_hashes);

// The checkpoint to resume or read from: LATEST's target when trusted, else the newest trusted
// one (logging a warning that names the rejected checkpoint and why). nullopt: none at all.
std::optional<CheckpointInfo> find_latest_checkpoint(const std::string& train_dir,
                                                     bool verify_hashes = true);

// Resolves what a user names with --checkpoint: a checkpoint directory, a train stage
// directory (its latest) or a run directory (its train/ stage's latest). IoError naming the
// path and what was expected when none of these holds a trusted checkpoint.
CheckpointInfo resolve_checkpoint(const std::string& path);

// meta.json's "files" entry for the files already in `dir` (every regular file but meta.json).
nlohmann::json describe_files(const std::string& dir);

}  // namespace sg::train
