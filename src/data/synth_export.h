#pragma once
// What `shadegan synth` writes beside the generator definition: the light prior as TOML, a
// preview sheet, and (optionally) every sample as an image file, so the synthetic set can also
// be used as an image folder (by `shard --source` or by other tools).
#include <string>

#include "data/synth.h"

namespace sg::data {

// A PNG with one column per sample (the first `n`) and four rows: RGB, albedo, normals
// (n/2 + 0.5 as colour) and depth (near bright, far dark).
std::string synth_preview_png(const SynthParams& p, int n);

// Writes the samples i ≡ rank (mod size) of the MPI ranks as <dir>/<i:06d>.<format> (png or
// jpg, quality 95), each atomically, skipping those present. A collective (mpi::for_each_round):
// a stop signal on any rank stops all within an image, with exit code 75 (preempted).
void export_synth_images(const SynthParams& p, const std::string& dir, const std::string& format);

}  // namespace sg::data
