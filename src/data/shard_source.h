#pragma once
// What a shard run reads: a sorted list of image files with a recipe, or the synthetic
// generator. Both are a sequence of items 0..count-1, each a pure function of its index, so
// any rank can produce any item and the shards do not depend on the number of ranks.
#include <cstdint>
#include <string>
#include <vector>

#include "data/codec.h"
#include "data/recipe.h"
#include "data/synth.h"

namespace sg::data {

struct ShardSource {
  enum class Kind { files, synth } kind = Kind::files;
  // files: the pattern as given, the directory names are relative to, and the sorted list
  std::string pattern, base_dir;
  std::vector<std::string> files;  // relative to base_dir
  Recipe recipe;
  SynthParams synth;
  // What one file may cost to read and decode (files only): over it, the file is skipped as
  // too_large. Part of definition() when not the defaults, since it decides what is skipped.
  DecodeLimits limits;

  int64_t count() const;
  int store_size() const;
  // What the stored images are: recipe canonical text or synth.toml (fingerprinted).
  std::string definition() const;
  // Identity of item i for fingerprints: its relative name, size and mtime, or its index.
  std::string item_identity(int64_t i) const;
  bool has_ground_truth() const { return kind == Kind::synth; }
};

// `pattern`: a glob such as data/celeba/*.jpg, or a directory (then the recipe's pattern is
// used inside it). Non-recursive; sorted by name. ConfigError naming the pattern when nothing
// matches.
ShardSource files_source(const std::string& pattern, const Recipe& recipe);
ShardSource synth_source(const SynthParams& params);

// One item, produced.
struct Item {
  bool ok = false;
  std::string reason, detail;  // when skipped: not_an_image | truncated | corrupt | unsupported | too_small |
                               // too_large | unreadable
  std::string conversion;      // when converted on the way: grayscale, cmyk, 16bit, palette, alpha
  Image rgb;                   // store_size², when ok
  SynthSample gt;              // synth only
};
Item produce_item(const ShardSource& s, int64_t i);

}  // namespace sg::data
