#pragma once
// Which surface normals shade the shape inversion's forward (eval's `shape_normals`; issue 23:
// the reference's per-sample normals cost a double backward in every Adam step).
//   trained   the normals the generator was trained to shade with: the density gradient for the
//             reference's recipe, the depth map's for shading_normals = "depth" (what the
//             inversion always did; the default)
//   density   the density gradient at every sample, by double backward (the reference's)
//   depth     the normals of the rendered depth map (model/depth_normals.h): no double backward
//   every:K   density normals on steps 0, K, 2K, ...; the steps between shade the generator's
//             albedo with the per-pixel normals of the last such step, held fixed (detached).
//             every:1 is density, bit for bit.
// A generator without shading ignores the choice (nothing reads its normals).
#include <cstdint>
#include <string>

namespace sg::metrics {

struct InversionNormals {
  enum class Kind { trained, density, depth, every };
  Kind kind = Kind::trained;
  int64_t k = 1;  // every: density normals every k-th step (k >= 1)
};

// "trained" | "density" | "depth" | "every:K" (K >= 1); anything else is a ConfigError listing
// the valid values.
InversionNormals inversion_normals_from_name(const std::string& name);
std::string inversion_normals_name(const InversionNormals& n);

}  // namespace sg::metrics
