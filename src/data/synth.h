#pragma once
// The built-in synthetic dataset (datasets/README.md has the design): random face-like objects
// (superquadric heads with a nose, eye sockets, a chin and random smooth bumps, each with a smooth
// random albedo), seen from the curriculum's camera distribution and lit by a light drawn from a
// 4-D Gaussian prior with the reference's Lambertian model (spec §2.4–2.5). Every sample is a
// pure function of (parameters, index): its randomness comes from Rng(seed, index, stream) only.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "data/camera.h"
#include "data/image.h"
#include "data/light_prior.h"

namespace sg::data {

struct SynthParams {
  int64_t count = 2000;
  int size = 64;
  uint64_t seed = 0;
  CameraDist camera;
  LightPrior prior = default_light_prior();
};

struct SynthSample {
  Image rgb;                  // shaded image, background black
  Image albedo;               // albedo (uint8, the values the shading used), background black
  std::vector<float> depth;   // size², distance along the unit ray from the camera; ray_end off the object
  std::vector<float> normal;  // size²·3, world-space unit normals; 0 off the object
  std::vector<uint8_t> mask;  // size², 1 on the object
  Pose pose;                  // yaw, pitch
  std::array<float, 4> light; // raw l = (a, d, dx, dy)
};

// Throws ConfigError when the parameters cannot give a valid set (size, count, camera keys, an
// object that would not fit inside ray_start..ray_end).
void validate(const SynthParams& p);
SynthSample render_synth_sample(const SynthParams& p, int64_t index);

// The reference's shading of one pixel (spec §2.5, l_ratio 1), in float as the generator
// computes it: rgb = clamp(albedo · (k_a + k_d · clamp(n·L, 0, 1)), 0, 1), quantised by rounding.
void shade_pixel(const uint8_t albedo[3], const float normal[3], const std::array<float, 4>& light,
                 uint8_t out[3]);

// Canonical description of the parameters (TOML), written beside the data as synth.toml and
// hashed into fingerprints; read back by read_synth_toml.
std::string synth_toml(const SynthParams& p);
SynthParams read_synth_toml(const std::string& path);

}  // namespace sg::data
