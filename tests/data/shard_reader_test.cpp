#include <doctest/doctest.h>

#include <filesystem>
#include <vector>

#include "core/json_file.h"
#include "data/hdf5.h"
#include "data/shard_reader.h"
#include "data/sharder.h"

using namespace sg::data;
namespace fs = std::filesystem;

// A fresh set of 8 synthetic samples at 16 px in two shards of 4, in its own directory.
static std::string fresh_shards(const std::string& name) {
  const std::string base = std::getenv("SG_TEST_TMP") ? std::getenv("SG_TEST_TMP") : "/tmp";
  const std::string d = base + "/shard_reader_test/" + name;
  fs::remove_all(d);
  SynthParams p;
  p.count = 8;
  p.size = 16;
  p.seed = 2;
  ShardOptions opt;
  opt.out_dir = d;
  opt.shard_size = 4;
  run_sharding(synth_source(p), opt);
  return d;
}

// Replaces a shard by one with the same sample count and datasets, except that its `images`
// dataset has `dims` and `type` instead of what manifest.json says (a shard from another run, or
// a hand-made one). Its elements are all 0xAB bytes, so anything written past a reader's buffer
// is visible.
static void forge_images(const std::string& path, h5::Type type, const std::vector<int64_t>& dims) {
  const std::string orig = path + ".orig";
  fs::rename(path, orig);
  {
    const h5::File in = h5::File::open_read(orig);
    h5::File f = h5::File::create(path);
    f.set_attr("format", std::string(kShardFormat));
    f.set_attr("format_version", int64_t{kShardFormatVersion});
    f.set_attr("count", dims.at(0));
    for (const char* name : {"index", "albedo", "mask", "depth", "normal", "pose", "light"}) {
      const h5::Dataset src = in.open_dataset(name);
      std::vector<char> rows(static_cast<size_t>(src.dims()[0] * src.row_elements()) * h5::type_size(src.type()));
      src.read_rows(0, src.dims()[0], rows.data());
      f.create_dataset(name, src.type(), src.dims(), 0).write_rows(0, src.dims()[0], rows.data());
    }
    h5::Dataset d = f.create_dataset("images", type, dims, 0);
    std::vector<uint8_t> fill(static_cast<size_t>(dims[0] * d.row_elements()) * h5::type_size(type), 0xAB);
    d.write_rows(0, dims[0], fill.data());
    f.close();
  }
  fs::remove(orig);
}

// Reads samples 4 and 5 (the second shard) into a buffer sized from the manifest, followed by a
// guard zone; returns the exception text (or "" when the read went through) and whether the
// guard was written.
static std::pair<std::string, bool> read_second_shard(const std::string& dir) {
  ShardReader r(dir);
  const size_t want = static_cast<size_t>(2 * r.sample_elements("images"));
  std::vector<uint8_t> buf(want + 65536, 0);
  std::string what;
  try {
    r.read("images", 4, 2, buf.data());
  } catch (const sg::FormatError& e) {
    what = e.what();
  }
  bool overflow = false;
  for (size_t i = want; i < buf.size(); ++i) overflow = overflow || buf[i] != 0;
  return {what, overflow};
}

TEST_CASE("a shard whose row size disagrees with manifest.json is a FormatError naming file, dataset and both shapes") {
  const std::string dir = fresh_shards("rows");
  forge_images(dir + "/shard-00001.h5", h5::Type::u8, {4, 32, 32, 3});
  const auto [what, overflow] = read_second_shard(dir);
  CHECK_FALSE(overflow);
  CHECK(what.find("shard-00001.h5") != std::string::npos);
  CHECK(what.find("'images'") != std::string::npos);
  CHECK(what.find("(4, 16, 16, 3) uint8") != std::string::npos);  // what the manifest says
  CHECK(what.find("(4, 32, 32, 3) uint8") != std::string::npos);  // what the file holds
}

TEST_CASE("a shard whose element type disagrees with manifest.json is a FormatError naming both types") {
  const std::string dir = fresh_shards("dtype");
  forge_images(dir + "/shard-00001.h5", h5::Type::f32, {4, 16, 16, 3});
  const auto [what, overflow] = read_second_shard(dir);
  CHECK_FALSE(overflow);
  CHECK(what.find("shard-00001.h5") != std::string::npos);
  CHECK(what.find("(4, 16, 16, 3) uint8") != std::string::npos);
  CHECK(what.find("(4, 16, 16, 3) float32") != std::string::npos);
}

TEST_CASE("the same elements in another shape (a flattened row) are refused too") {
  const std::string dir = fresh_shards("rank");
  forge_images(dir + "/shard-00001.h5", h5::Type::u8, {4, 16 * 16 * 3});
  CHECK(read_second_shard(dir).first.find("(4, 768) uint8") != std::string::npos);
}

TEST_CASE("a manifest whose sample shapes disagree with its store_size, or name an unknown dataset, is refused") {
  // Callers size buffers from store_size (the loader, eval's ground truth): it must be what the
  // shapes say, which the files are checked against.
  const std::string dir = fresh_shards("manifest");
  const std::string mp = dir + "/manifest.json";
  const nlohmann::json good = sg::read_json(mp);
  nlohmann::json m = good;
  m["store_size"] = 32;
  sg::write_json_atomic(mp, m);
  CHECK_THROWS_WITH_AS(ShardReader{dir}, doctest::Contains("manifest.json"), sg::FormatError);
  CHECK_THROWS_WITH_AS(ShardReader{dir}, doctest::Contains("store_size 32"), sg::FormatError);
  m = good;
  m["sample_shapes"]["depth"] = {16, 16, 2};
  sg::write_json_atomic(mp, m);
  CHECK_THROWS_WITH_AS(ShardReader{dir}, doctest::Contains("[16, 16, 2]"), sg::FormatError);
  m = good;
  m["sample_shapes"]["extra"] = {1};
  sg::write_json_atomic(mp, m);
  CHECK_THROWS_WITH_AS(ShardReader{dir}, doctest::Contains("'extra'"), sg::FormatError);
  // The untouched set reads.
  sg::write_json_atomic(mp, good);
  ShardReader r(dir);
  std::vector<float> depth(16 * 16 * 8);
  r.read("depth", 0, 8, depth.data());
  CHECK(r.count() == 8);
}

// A set as format v1 wrote it: every per-sample dataset chunked by sample (index, pose and light
// too), through HDF5's own writes, and format_version 1 in the manifest and the files.
static void rewrite_as_v1(const std::string& dir) {
  const std::string mp = dir + "/manifest.json";
  nlohmann::json m = sg::read_json(mp);
  for (const auto& s : m["shards"]) {
    const std::string path = dir + "/" + s["file"].get<std::string>(), orig = path + ".v2";
    fs::rename(path, orig);
    {
      const h5::File in = h5::File::open_read(orig);
      h5::File f = h5::File::create(path);
      f.set_attr("format", std::string(kShardFormat));
      f.set_attr("format_version", int64_t{1});
      f.set_attr("count", in.attr_int("count"));
      for (const char* name : {"images", "index", "albedo", "mask", "depth", "normal", "pose", "light"}) {
        const h5::Dataset src = in.open_dataset(name);
        std::vector<char> rows(static_cast<size_t>(src.bytes()));
        src.read_rows(0, src.dims()[0], rows.data());
        h5::Dataset d = f.create_dataset(name, src.type(), src.dims(), 0);
        for (int64_t j = 0; j < src.dims()[0]; ++j)
          d.write_rows(j, 1, rows.data() + static_cast<size_t>(j * src.row_elements()) * h5::type_size(src.type()));
      }
      f.close();
    }
    fs::remove(orig);
  }
  m["format_version"] = 1;
  sg::write_json_atomic(mp, m);
}

TEST_CASE("sets in format v1 (chunked by sample) still read, to the same values, an unknown version is refused") {
  const std::string dir = fresh_shards("v1");
  Pixels images_v2;
  std::vector<uint8_t> albedo_v2;
  std::vector<float> normal_v2(16 * 16 * 3 * 8), light_v2(4 * 8);
  {
    ShardReader r(dir);
    CHECK(r.manifest()["format_version"] == kShardFormatVersion);
    CHECK(h5::File::open_read(dir + "/shard-00000.h5").attr_int("format_version") == 2);
    images_v2 = r.read_images(0, 8);
    albedo_v2.resize(static_cast<size_t>(r.sample_elements("albedo") * 8));
    r.read("albedo", 0, 8, albedo_v2.data());
    r.read("normal", 0, 8, normal_v2.data());
    r.read("light", 0, 8, light_v2.data());
  }
  rewrite_as_v1(dir);
  {
    ShardReader r(dir);
    CHECK(r.count() == 8);
    CHECK(r.read_images(0, 8) == images_v2);
    std::vector<uint8_t> albedo(albedo_v2.size());
    std::vector<float> normal(normal_v2.size()), light(light_v2.size());
    r.read("albedo", 0, 8, albedo.data());
    r.read("normal", 0, 8, normal.data());
    r.read("light", 0, 8, light.data());
    CHECK(albedo == albedo_v2);
    CHECK(normal == normal_v2);
    CHECK(light == light_v2);
  }
  nlohmann::json m = sg::read_json(dir + "/manifest.json");
  m["format_version"] = kShardFormatVersion + 1;
  sg::write_json_atomic(dir + "/manifest.json", m);
  CHECK_THROWS_WITH_AS(ShardReader{dir}, doctest::Contains("v1..v2"), sg::FormatError);
}
