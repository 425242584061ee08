#include "data/shard_source.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "core/atomic_file.h"

namespace fs = std::filesystem;

namespace sg::data {
namespace {

// glob(3), wrapped once: sorted matches of a non-recursive pattern.
std::vector<std::string> glob_files(const std::string& pattern) {
  glob_t g{};
  const int rc = ::glob(pattern.c_str(), GLOB_ERR, nullptr, &g);
  std::vector<std::string> out;
  if (rc == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  globfree(&g);
  if (rc != 0 && rc != GLOB_NOMATCH)
    throw IoError("cannot read the directory of pattern '" + pattern + "' (glob error " + std::to_string(rc) + ")");
  std::vector<std::string> files;
  for (auto& f : out)
    if (fs::is_regular_file(f)) files.push_back(f);
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int64_t ShardSource::count() const {
  return kind == Kind::files ? static_cast<int64_t>(files.size()) : synth.count;
}

int ShardSource::store_size() const { return kind == Kind::files ? recipe.store_size() : synth.size; }

std::string ShardSource::definition() const {
  if (kind == Kind::synth) return synth_toml(synth);
  // The limits decide which files are skipped, so they belong to what the shards are; the
  // defaults add nothing, so shard sets made before the limits existed are kept.
  std::string d = recipe.canonical();
  const DecodeLimits defaults;
  if (limits.max_pixels != defaults.max_pixels || limits.max_file_bytes != defaults.max_file_bytes)
    d += "\nmax_image_pixels = " + std::to_string(limits.max_pixels) +
         "\nmax_image_bytes = " + std::to_string(limits.max_file_bytes) + "\n";
  return d;
}

std::string ShardSource::item_identity(int64_t i) const {
  if (kind == Kind::synth) return "synth:" + std::to_string(i);
  const std::string full = (fs::path(base_dir) / files[static_cast<size_t>(i)]).string();
  struct stat st {};
  if (::stat(full.c_str(), &st) != 0) return files[static_cast<size_t>(i)] + "|missing";
  return files[static_cast<size_t>(i)] + "|" + std::to_string(st.st_size) + "|" +
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

ShardSource files_source(const std::string& pattern, const Recipe& recipe) {
  ShardSource s;
  s.kind = ShardSource::Kind::files;
  s.recipe = recipe;
  std::string pat = pattern;
  if (fs::is_directory(pattern)) pat = (fs::path(pattern) / recipe.pattern).string();
  s.pattern = pat;
  s.base_dir = fs::path(pat).parent_path().string();
  if (s.base_dir.empty()) s.base_dir = ".";
  if (s.base_dir.find_first_of("*?[") != std::string::npos)
    throw ConfigError("source pattern '" + pattern + "': wildcards are allowed in the file name only");
  if (!fs::is_directory(s.base_dir)) throw ConfigError("source directory '" + s.base_dir + "' does not exist");
  for (const auto& f : glob_files(pat)) s.files.push_back(fs::path(f).lexically_relative(s.base_dir).string());
  if (s.files.empty()) throw ConfigError("source pattern '" + pat + "' matches no files");
  return s;
}

ShardSource synth_source(const SynthParams& params) {
  validate(params);
  ShardSource s;
  s.kind = ShardSource::Kind::synth;
  s.synth = params;
  return s;
}

Item produce_item(const ShardSource& s, int64_t i) {
  Item it;
  if (s.kind == ShardSource::Kind::synth) {
    it.gt = render_synth_sample(s.synth, i);
    it.rgb = it.gt.rgb;
    it.ok = true;
    return it;
  }
  const std::string full = (fs::path(s.base_dir) / s.files[static_cast<size_t>(i)]).string();
  // A file over the byte limit is not even read into memory (a 40 GB file in an image folder).
  std::error_code ec;
  const auto size = fs::file_size(full, ec);
  if (!ec && static_cast<int64_t>(size) > s.limits.max_file_bytes) {
    it.reason = "too_large";
    it.detail = "file of " + std::to_string(size) + " bytes is over the limit of " +
                std::to_string(s.limits.max_file_bytes) + " bytes (max_image_bytes)";
    return it;
  }
  std::string bytes;
  try {
    bytes = read_file(full);
  } catch (const IoError& e) {
    it.reason = "unreadable";
    it.detail = e.what();
    return it;
  }
  try {
    Decoded d = decode_image(bytes, s.limits);
    it.conversion = d.conversion;
    it.rgb = apply_recipe(s.recipe, std::move(d.image), s.limits.max_pixels);
    it.ok = true;
  } catch (const DecodeError& e) {
    it.reason = e.reason;
    it.detail = e.what();
  } catch (const RecipeSkip& e) {
    it.reason = e.reason;
    it.detail = e.what();
  }
  return it;
}

}  // namespace sg::data
