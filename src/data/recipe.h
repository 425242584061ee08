#pragma once
// Dataset recipes (datasets/*.toml): how a raw image of a dataset becomes the fixed-size square
// the shards store (spec §7's PIL steps), and in which order the loader flips and resizes.
#include <string>
#include <vector>

#include "core/error.h"
#include "data/codec.h"
#include "data/image.h"

namespace sg::data {

struct RecipeStep {
  std::string op;      // resize_shorter | resize | center_crop
  int size = 0;
  std::string filter;  // bilinear | nearest_pil (resize ops)
};

struct Recipe {
  std::string name, description, pattern, file;
  std::string flip;    // before_resize (CelebA, BFM) | after_resize (Cats)
  std::vector<RecipeStep> steps;
  int store_size() const;  // side of the stored square (the last step's size)
  std::string canonical() const;  // what fingerprints hash: every field but file/description
};

// An image the recipe cannot use (smaller than a crop, or too large once resized): skipped with
// this reason (too_small, too_large).
struct RecipeSkip : FormatError {
  std::string reason;
  RecipeSkip(std::string r, const std::string& what) : FormatError(what), reason(std::move(r)) {}
};

Recipe load_recipe(const std::string& path);
// `name_or_path`: an existing .toml file, or a recipe name looked up as <dir>/<name>.toml in
// `dirs` (ConfigError listing the recipes found when nothing matches).
Recipe find_recipe(const std::string& name_or_path, const std::vector<std::string>& dirs);
// An image whose intermediate size would exceed `max_pixels` (resize_shorter of a 65500x1 strip
// asks for 16.7 G pixels) is skipped as too_large rather than allocated.
// Takes the image by value: a caller done with it moves it in, and a step that changes nothing
// (a centre crop to the image's own size) copies nothing.
Image apply_recipe(const Recipe& r, Image img, int64_t max_pixels = DecodeLimits{}.max_pixels);

}  // namespace sg::data
