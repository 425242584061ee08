#include "data/sharder.h"

#include <filesystem>
#include <future>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/hash.h"
#include "core/json_file.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/signals.h"
#include "core/text.h"
#include "data/hdf5.h"
#include "mpi/mpi.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace sg::data {
namespace {

std::string part_path(const std::string& dir, int64_t k) {
  return (fs::path(dir) / "parts" / fmt::format("shard-{:05d}.json", k)).string();
}

std::string shard_fingerprint(const ShardSource& src, const ShardOptions& opt, int64_t first, int64_t last) {
  Hasher h;
  h.field(kShardFormat).field(std::to_string(kShardFormatVersion));
  h.field(src.definition()).field(std::to_string(opt.shard_size)).field(std::to_string(opt.deflate));
  for (int64_t i = first; i < last; ++i) h.field(src.item_identity(i));
  return h.hex();
}

// Writes shard k's items to `path` (a temporary name; the caller renames).
void write_shard(const std::string& path, const ShardSource& src, const ShardOptions& opt,
                 const std::vector<Item>& items, const std::vector<int64_t>& index, int64_t k,
                 const std::string& fingerprint) {
  const int64_t n = static_cast<int64_t>(index.size());
  const int64_t S = src.store_size();
  h5::File f = h5::File::create(path);
  f.set_attr("format", std::string(kShardFormat));
  f.set_attr("format_version", int64_t{kShardFormatVersion});
  f.set_attr("shard_index", k);
  f.set_attr("count", n);
  f.set_attr("store_size", S);
  f.set_attr("source_kind", std::string(src.kind == ShardSource::Kind::synth ? "synth" : "files"));
  f.set_attr("flip", std::string(src.kind == ShardSource::Kind::synth ? "before_resize" : src.recipe.flip));
  f.set_attr("fingerprint", fingerprint);
  auto images = f.create_dataset("images", h5::Type::u8, {n, S, S, 3}, opt.deflate);
  auto idx = f.create_dataset("index", h5::Type::i64, {n}, 0);
  idx.write_rows(0, n, index.data());
  for (int64_t j = 0; j < n; ++j) images.write_rows(j, 1, items[static_cast<size_t>(j)].rgb.rgb.data());
  if (!src.has_ground_truth()) {
    f.close();
    return;
  }
  auto albedo = f.create_dataset("albedo", h5::Type::u8, {n, S, S, 3}, opt.deflate);
  auto mask = f.create_dataset("mask", h5::Type::u8, {n, S, S}, opt.deflate);
  auto depth = f.create_dataset("depth", h5::Type::f32, {n, S, S}, opt.deflate);
  auto normal = f.create_dataset("normal", h5::Type::f32, {n, S, S, 3}, opt.deflate);
  auto pose = f.create_dataset("pose", h5::Type::f32, {n, 2}, 0);
  auto light = f.create_dataset("light", h5::Type::f32, {n, 4}, 0);
  for (int64_t j = 0; j < n; ++j) {
    const SynthSample& g = items[static_cast<size_t>(j)].gt;
    albedo.write_rows(j, 1, g.albedo.rgb.data());
    mask.write_rows(j, 1, g.mask.data());
    depth.write_rows(j, 1, g.depth.data());
    normal.write_rows(j, 1, g.normal.data());
    const float p[2] = {static_cast<float>(g.pose.yaw), static_cast<float>(g.pose.pitch)};
    pose.write_rows(j, 1, p);
    light.write_rows(j, 1, g.light.data());
  }
  f.close();
}

// A kept shard: its marker matches the fingerprint and its file has the recorded size (and hash,
// with verify).
bool shard_is_done(const std::string& dir, int64_t k, const std::string& fingerprint, bool verify) {
  const std::string mp = part_path(dir, k);
  if (!fs::exists(mp)) return false;
  json m;
  try {
    m = read_json(mp);
  } catch (const Error&) {
    return false;
  }
  if (m.value("fingerprint", "") != fingerprint) return false;
  const std::string file = (fs::path(dir) / m.value("file", "")).string();
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec || static_cast<int64_t>(size) != m.value("bytes", int64_t{-1})) return false;
  if (verify && hash_file(file) != m.value("xxh3", "")) return false;
  return true;
}

// A shard's decoded items, between producing them and storing them.
struct ShardItems {
  int64_t k = 0, first = 0, last = 0;
  std::string fingerprint;
  std::vector<Item> kept;
  std::vector<int64_t> index;
  json skipped = json::array();
  std::map<std::string, int64_t> conversions;
};

// Reads and decodes items [first, last) (the main thread: it logs skips and advances progress).
ShardItems produce_shard(const ShardSource& src, int64_t k, int64_t first, int64_t last,
                         const std::string& fingerprint, Progress* progress) {
  ShardItems s;
  s.k = k;
  s.first = first;
  s.last = last;
  s.fingerprint = fingerprint;
  auto& kept = s.kept;
  auto& index = s.index;
  auto& skipped = s.skipped;
  auto& conversions = s.conversions;
  for (int64_t i = first; i < last; ++i) {
    Item it = produce_item(src, i);
    // File names are bytes; the marker, the manifest and the event log are JSON, which must be
    // UTF-8: any other byte is written \xNN (sources.txt keeps the names as they are).
    const std::string name = src.kind == ShardSource::Kind::files ? escape_non_utf8(src.files[static_cast<size_t>(i)])
                                                                   : std::to_string(i);
    if (!it.ok) {
      const std::string detail = escape_non_utf8(it.detail);  // may quote the path
      log::warn("skipped {}: {} ({})", name, it.reason, detail);
      log::event("skipped", {{"file", name}, {"reason", it.reason}, {"detail", detail}});
      skipped.push_back({{"file", name}, {"index", i}, {"reason", it.reason}, {"detail", detail}});
    } else {
      if (!it.conversion.empty()) {
        ++conversions[it.conversion];
        log::debug("converted {}: {}", name, it.conversion);
      }
      index.push_back(i);
      kept.push_back(std::move(it));
    }
    if (progress) progress->advance();
  }
  return s;
}

// Writes, renames and marks a produced shard. Runs on the writer thread (see run_sharding): it
// makes no MPI call and does not log, and no other thread calls HDF5 meanwhile.
void store_shard(const ShardSource& src, const ShardOptions& opt, const ShardItems& s) {
  const std::string name = shard_file_name(s.k);
  const std::string path = (fs::path(opt.out_dir) / name).string();
  const std::string tmp = temp_path_for(path);
  try {
    write_shard(tmp, src, opt, s.kept, s.index, s.k, s.fingerprint);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
  commit_file(tmp, path);
  json marker = {{"fingerprint", s.fingerprint}, {"file", name}, {"shard", s.k}, {"first_item", s.first},
                 {"end_item", s.last}, {"count", static_cast<int64_t>(s.index.size())},
                 {"bytes", static_cast<int64_t>(fs::file_size(path))}, {"xxh3", hash_file(path)},
                 {"skipped", s.skipped}, {"conversions", s.conversions}};
  write_json_atomic(part_path(opt.out_dir, s.k), marker);
}

// At most one shard being stored while the next one decodes: storing (HDF5 write + XXH3 of the
// file) is a third of a rank's time with pixels uncompressed, and a second core hides it.
class ShardWriter {
 public:
  ShardWriter(const ShardSource& src, const ShardOptions& opt) : src_(src), opt_(opt) {}
  ~ShardWriter() {
    if (pending_.valid()) pending_.wait();
  }
  // Waits for the shard in hand (rethrowing its failure), then starts storing `s`.
  void store(ShardItems s) {
    finish();
    auto items = std::make_shared<ShardItems>(std::move(s));
    pending_k_ = items->k;
    pending_count_ = static_cast<int64_t>(items->index.size());
    pending_skipped_ = items->skipped.size();
    pending_ = std::async(std::launch::async, [this, items] { store_shard(src_, opt_, *items); });
  }
  // Waits for the shard in hand, if any; rethrows its failure.
  void finish() {
    if (!pending_.valid()) return;
    pending_.get();
    log::event("shard_written", {{"shard", pending_k_}, {"count", pending_count_}, {"skipped", pending_skipped_}});
  }

 private:
  const ShardSource& src_;
  const ShardOptions& opt_;
  std::future<void> pending_;
  int64_t pending_k_ = 0, pending_count_ = 0;
  size_t pending_skipped_ = 0;
};

}  // namespace

std::string shard_file_name(int64_t k) { return fmt::format("shard-{:05d}.h5", k); }

json run_sharding(const ShardSource& src, const ShardOptions& opt) {
  if (opt.shard_size < 1) throw ConfigError("shard_size must be >= 1");
  if (opt.deflate < 0 || opt.deflate > 9) throw ConfigError("deflate must be in 0..9");
  const int rank = mpi::rank(), size = mpi::size();
  const int64_t count = src.count();
  const int64_t nshards = (count + opt.shard_size - 1) / opt.shard_size;

  // Rank 0 creates the directories; the others learn whether that worked.
  std::string err;
  if (rank == 0) {
    try {
      create_dirs((fs::path(opt.out_dir) / "parts").string());
    } catch (const Error& e) {
      err = e.what();
    }
  }
  mpi::broadcast(err);
  if (!err.empty()) throw IoError(err);

  int64_t mine = 0;
  for (int64_t k = rank; k < nshards; k += size)
    mine += std::min(count, (k + 1) * opt.shard_size) - k * opt.shard_size;
  std::unique_ptr<Progress> progress;
  if (rank == 0) progress = std::make_unique<Progress>("shard (rank 0)", mine, "img");
  int64_t kept = 0, built = 0;
  std::string failure;
  bool stopped = false;
  // Rounds of one shard per rank, each opened by a vote every rank takes part in (some with no
  // shard in the last round): a signal that reached one rank, or a rank's failure, stops all
  // after the round in hand, instead of the others building the rest of theirs first.
  const int64_t rounds = (nshards + size - 1) / size;
  ShardWriter writer(src, opt);
  for (int64_t round = 0; round < rounds; ++round) {
    // Finished shards are kept by fingerprint, so a stop between shards loses nothing.
    if (mpi::allreduce_or(stop_requested() || !failure.empty())) {
      stopped = true;  // (a failure on any rank is reported first, below)
      break;
    }
    const int64_t k = round * size + rank;
    if (k >= nshards) continue;
    try {
      const int64_t first = k * opt.shard_size, last = std::min(count, first + opt.shard_size);
      const std::string fp = shard_fingerprint(src, opt, first, last);
      if (shard_is_done(opt.out_dir, k, fp, opt.verify)) {
        ++kept;
        if (progress) progress->advance(last - first);
        log::debug("shard {} is done (fingerprint {}), kept", k, fp.substr(0, 12));
        continue;
      }
      ShardItems items = produce_shard(src, k, first, last, fp, progress.get());
      writer.store(std::move(items));  // a failure storing the previous shard surfaces here
      ++built;
    } catch (const std::exception& e) {
      failure = e.what();
    }
  }
  // The last shard (or the one in hand when a stop came) is finished before anyone votes again.
  try {
    writer.finish();
  } catch (const std::exception& e) {
    if (failure.empty()) failure = e.what();
  }
  if (progress) progress->finish();
  // Every rank learns whether any failed, so none waits forever at the next collective.
  if (mpi::allreduce_or(!failure.empty())) {
    if (!failure.empty()) throw StageError(failure);
    throw StageError("sharding failed on another rank");
  }
  if (mpi::allreduce_or(stopped))
    throw Error(ExitCode::preempted, "shard: stopped on signal " + std::to_string(stop_signal()) +
                                         "; rerun to build the remaining shards (finished ones are kept)");
  int64_t counts[2] = {kept, built};
  mpi::allreduce_sum(counts, 2);

  json manifest;
  if (rank == 0) {
    manifest["format"] = kShardFormat;
    manifest["format_version"] = kShardFormatVersion;
    manifest["source_kind"] = src.kind == ShardSource::Kind::synth ? "synth" : "files";
    manifest["store_size"] = src.store_size();
    manifest["flip"] = src.kind == ShardSource::Kind::synth ? "before_resize" : src.recipe.flip;
    manifest["shard_size"] = opt.shard_size;
    manifest["deflate"] = opt.deflate;
    json shapes = {{"images", {src.store_size(), src.store_size(), 3}}, {"index", json::array()}};
    if (src.has_ground_truth()) {
      const int S = src.store_size();
      shapes["albedo"] = {S, S, 3};
      shapes["mask"] = {S, S};
      shapes["depth"] = {S, S};
      shapes["normal"] = {S, S, 3};
      shapes["pose"] = {2};
      shapes["light"] = {4};
    }
    manifest["sample_shapes"] = shapes;
    Hasher list;
    for (int64_t i = 0; i < count; ++i) list.field(src.item_identity(i));
    json source = {{"items", count}, {"list_hash", list.hex()}, {"definition_hash", hash_bytes(src.definition())}};
    if (src.kind == ShardSource::Kind::files) {
      source["pattern"] = escape_non_utf8(src.pattern);
      source["recipe"] = src.recipe.name;
      source["recipe_file"] = escape_non_utf8(src.recipe.file);
      std::string names;
      for (const auto& f : src.files) names += f + "\n";
      write_file_atomic((fs::path(opt.out_dir) / "sources.txt").string(), names);
      source["list_file"] = "sources.txt";
    } else {
      source["synth"] = synth_toml(src.synth);
    }
    manifest["source"] = source;
    json shards = json::array(), skipped = json::array();
    std::map<std::string, int64_t> skipped_counts, converted;
    int64_t total = 0;
    for (int64_t k = 0; k < nshards; ++k) {
      const json m = read_json(part_path(opt.out_dir, k));
      shards.push_back({{"file", m["file"]}, {"count", m["count"]}, {"first_item", m["first_item"]},
                        {"end_item", m["end_item"]}, {"bytes", m["bytes"]}, {"xxh3", m["xxh3"]}});
      total += m["count"].get<int64_t>();
      for (const auto& s : m["skipped"]) {
        skipped.push_back(s);
        ++skipped_counts[s["reason"].get<std::string>()];
      }
      for (const auto& [kind, n] : m["conversions"].items()) converted[kind] += n.get<int64_t>();
    }
    manifest["count"] = total;
    manifest["shards"] = shards;
    manifest["skipped"] = skipped;
    manifest["skipped_counts"] = skipped_counts;
    manifest["converted_counts"] = converted;
    manifest["shards_built"] = counts[1];
    manifest["shards_kept"] = counts[0];
    Hasher all;
    for (const auto& s : shards) all.field(s["xxh3"].get<std::string>());
    manifest["content_hash"] = all.hex();
    // Written last: its presence means every shard is complete.
    write_json_atomic((fs::path(opt.out_dir) / "manifest.json").string(), manifest);
    log::info("sharded {} of {} items into {} shards ({} built, {} kept); skipped {}", total, count, nshards,
              counts[1], counts[0], skipped.size());
    log::event("manifest", {{"count", total}, {"shards", nshards}, {"skipped_counts", skipped_counts},
                            {"converted_counts", converted}});
  }
  std::string text = rank == 0 ? manifest.dump() : std::string();
  mpi::broadcast(text);
  return json::parse(text);
}

}  // namespace sg::data
