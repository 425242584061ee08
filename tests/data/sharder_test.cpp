#include <doctest/doctest.h>

#include <filesystem>

#include "core/atomic_file.h"
#include "core/hash.h"
#include "core/json_file.h"
#include "data/codec.h"
#include "data/hdf5.h"
#include "data/shard_reader.h"
#include "data/sharder.h"

using namespace sg::data;
namespace fs = std::filesystem;

static std::string tmpdir(const std::string& name) {
  const std::string base = std::getenv("SG_TEST_TMP") ? std::getenv("SG_TEST_TMP") : "/tmp";
  const std::string d = base + "/sharder_test/" + name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

static SynthParams small_synth() {
  SynthParams p;
  p.count = 20;
  p.size = 32;
  p.seed = 3;
  return p;
}

TEST_CASE("synthetic shards hold exactly the generated samples and ground truth") {
  const std::string out = tmpdir("synth");
  ShardOptions opt;
  opt.out_dir = out;
  opt.shard_size = 8;
  const auto m = run_sharding(synth_source(small_synth()), opt);
  CHECK(m["count"] == 20);
  CHECK(m["shards"].size() == 3);
  CHECK(m["shards"][2]["count"] == 4);
  ShardReader r(out);
  REQUIRE(r.count() == 20);
  CHECK(r.store_size() == 32);
  for (int i : {0, 9, 19}) {
    const SynthSample s = render_synth_sample(small_synth(), i);
    CHECK(r.read_images(i, 1) == s.rgb.rgb);
    std::vector<float> depth(32 * 32), normal(32 * 32 * 3), light(4), pose(2);
    Pixels albedo(32 * 32 * 3);
    std::vector<uint8_t> mask(32 * 32);
    int64_t index = -1;
    r.read("depth", i, 1, depth.data());
    r.read("normal", i, 1, normal.data());
    r.read("albedo", i, 1, albedo.data());
    r.read("mask", i, 1, mask.data());
    r.read("light", i, 1, light.data());
    r.read("pose", i, 1, pose.data());
    r.read("index", i, 1, &index);
    CHECK(depth == s.depth);
    CHECK(normal == s.normal);
    CHECK(albedo == s.albedo.rgb);
    CHECK(mask == s.mask);
    CHECK(light[3] == s.light[3]);
    CHECK(pose[0] == static_cast<float>(s.pose.yaw));
    CHECK(index == i);
  }
  CHECK_THROWS_AS(r.read("images", 19, 2, nullptr), sg::FormatError);
}

TEST_CASE("JPEGs at a store size whose rows are not 4 KiB multiples read back as decoded, each shard hashed as hash_file") {
  // 20 px: 1,200-byte rows, so each shard's block starts aligned and ends mid-block (its tail goes
  // through the page cache) and the last shard's block is below 4 KiB (all through it).
  const std::string src = tmpdir("jpg_src"), out = tmpdir("jpg_out");
  std::vector<Image> decoded;
  for (int i = 0; i < 11; ++i) {
    Image img(30 + i, 24);
    for (size_t p = 0; p < img.rgb.size(); ++p) img.rgb[p] = static_cast<uint8_t>(p * (i + 3) + i);
    const std::string jpg = encode_jpeg(img, 85);
    sg::write_file_atomic(src + "/" + std::to_string(100 + i) + ".jpg", jpg);
    decoded.push_back(decode_image(jpg).image);
  }
  const std::string recipe_path = tmpdir("jpg_recipe") + "/t.toml";
  sg::write_file_atomic(recipe_path, "name = \"t\"\npattern = \"*.jpg\"\n[[step]]\nop = \"center_crop\"\nsize = 20\n");
  const Recipe recipe = load_recipe(recipe_path);
  ShardOptions opt;
  opt.out_dir = out;
  opt.shard_size = 4;
  const auto m = run_sharding(files_source(src, recipe), opt);
  CHECK(m["format_version"] == 2);
  REQUIRE(m["count"] == 11);
  for (const auto& s : m["shards"]) CHECK(s["xxh3"] == sg::hash_file(out + "/" + s["file"].get<std::string>()));
  ShardReader r(out);
  const Pixels all = r.read_images(0, 11);
  for (size_t i = 0; i < 11; ++i) {
    const Image want = apply_recipe(recipe, decoded[i]);
    CHECK(Pixels(all.begin() + static_cast<long>(i * 1200), all.begin() + static_cast<long>((i + 1) * 1200)) == want.rgb);
  }
  // What the markers say checks out when rehashed: a verifying rerun keeps every shard.
  opt.verify = true;
  const auto again = run_sharding(files_source(src, recipe), opt);
  CHECK(again["shards_kept"] == 3);
  CHECK(again["content_hash"] == m["content_hash"]);
}

TEST_CASE("the list hash covers every item's name, size and mtime, whether its shard was built, kept or marked without items_hash") {
  const std::string src = tmpdir("list_src"), out = tmpdir("list_out");
  for (int i = 0; i < 7; ++i) {
    Image img(16, 16);
    for (size_t p = 0; p < img.rgb.size(); ++p) img.rgb[p] = static_cast<uint8_t>(p * 7 + i * 31);
    sg::write_file_atomic(src + "/" + std::to_string(i) + ".jpg", encode_jpeg(img, 90));
  }
  Recipe recipe;
  recipe.name = "list";
  recipe.pattern = "*.jpg";
  recipe.steps = {{"center_crop", 16, ""}};
  ShardOptions opt;
  opt.out_dir = out;
  opt.shard_size = 3;
  // By its definition: over each shard's hash of its items' identities (name|size|mtime).
  auto expected = [&] {
    const ShardSource s = files_source(src, recipe);
    sg::Hasher list;
    for (int64_t first = 0; first < s.count(); first += opt.shard_size) {
      sg::Hasher items;
      for (int64_t i = first; i < std::min<int64_t>(s.count(), first + opt.shard_size); ++i) items.field(s.item_identity(i));
      list.field(items.hex());
    }
    return list.hex();
  };
  const auto built = run_sharding(files_source(src, recipe), opt);
  CHECK(built["shards_built"] == 3);
  CHECK(built["source"]["list_hash"] == expected());
  const auto kept = run_sharding(files_source(src, recipe), opt);
  CHECK(kept["shards_kept"] == 3);
  CHECK(kept["source"]["list_hash"] == built["source"]["list_hash"]);
  // Markers from before they held items_hash: the hash is computed from the files instead.
  for (int k = 0; k < 3; ++k) {
    const std::string mp = out + "/parts/shard-0000" + std::to_string(k) + ".json";
    auto m = sg::read_json(mp);
    REQUIRE(m.contains("items_hash"));
    m.erase("items_hash");
    sg::write_json_atomic(mp, m);
  }
  const auto legacy = run_sharding(files_source(src, recipe), opt);
  CHECK(legacy["shards_kept"] == 3);
  CHECK(legacy["source"]["list_hash"] == built["source"]["list_hash"]);
  // The same bytes with a new mtime: that shard is rebuilt, and the list is another.
  fs::last_write_time(src + "/4.jpg", fs::last_write_time(src + "/4.jpg") + std::chrono::seconds(5));
  const auto touched = run_sharding(files_source(src, recipe), opt);
  CHECK(touched["shards_built"] == 1);
  CHECK(touched["source"]["list_hash"] != built["source"]["list_hash"]);
  CHECK(touched["source"]["list_hash"] == expected());
}

TEST_CASE("a rerun keeps verified shards and rebuilds only a missing or damaged one identically") {
  const std::string out = tmpdir("resume");
  ShardOptions opt;
  opt.out_dir = out;
  opt.shard_size = 8;
  const auto first = run_sharding(synth_source(small_synth()), opt);
  CHECK(first["shards_built"] == 3);
  auto again = run_sharding(synth_source(small_synth()), opt);
  CHECK(again["shards_built"] == 0);
  CHECK(again["shards_kept"] == 3);
  fs::remove(out + "/shard-00001.h5");
  sg::write_file_atomic(out + "/shard-00002.h5", "garbage of another size");
  again = run_sharding(synth_source(small_synth()), opt);
  CHECK(again["shards_built"] == 2);
  CHECK(again["content_hash"] == first["content_hash"]);
  // Changing the generator's parameters changes every shard's fingerprint.
  SynthParams other = small_synth();
  other.seed = 4;
  again = run_sharding(synth_source(other), opt);
  CHECK(again["shards_built"] == 3);
  CHECK(again["content_hash"] != first["content_hash"]);
}

TEST_CASE("a folder with every kind of bad file gives the right counts and reasons, good ones converted") {
  const std::string src = tmpdir("bad_src"), out = tmpdir("bad_out");
  Image img(80, 72);
  for (size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = static_cast<uint8_t>(i * 7);
  Image small(40, 40);
  const std::string jpg = encode_jpeg(img, 90);
  std::vector<uint8_t> alpha(80 * 72, 200);
  Image few(80, 72);
  for (size_t i = 0; i < few.rgb.size(); ++i) few.rgb[i] = static_cast<uint8_t>((i / 3 % 7) * 30);
  const std::map<std::string, std::string> files = {
      {"a_good.jpg", jpg},
      {"b_good.png", encode_png(img)},
      {"c_gray.jpg", encode_jpeg_as(img, 90, "gray")},
      {"d_cmyk.jpg", encode_jpeg_as(img, 90, "cmyk")},
      {"e_16bit.png", encode_png(img, 3, 16)},
      {"f_palette.png", encode_png(few, 3, 8, true)},
      {"g_alpha.png", encode_png(img, 4, 8, false, alpha.data())},
      {"h_truncated.jpg", jpg.substr(0, jpg.size() / 2)},
      {"i_text.jpg", "<html>not an image</html>"},
      {"j_empty.png", ""},
      {"k_small.jpg", encode_jpeg(small, 90)},
      {"l_corrupt.png", [&] { std::string s = encode_png(img); s[40] ^= 0x55; return s; }()},
  };
  for (const auto& [name, bytes] : files) sg::write_file_atomic(src + "/" + name, bytes);
  const std::string recipe_path = tmpdir("bad_recipe") + "/t.toml";
  sg::write_file_atomic(recipe_path, "name = \"t\"\npattern = \"*\"\n[[step]]\nop = \"center_crop\"\nsize = 64\n");
  ShardOptions opt;
  opt.out_dir = out;
  opt.shard_size = 5;
  const auto m = run_sharding(files_source(src, load_recipe(recipe_path)), opt);
  CHECK(m["count"] == 7);
  CHECK(m["skipped"].size() == 5);
  CHECK(m["skipped_counts"]["truncated"] == 1);
  CHECK(m["skipped_counts"]["not_an_image"] == 2);
  CHECK(m["skipped_counts"]["too_small"] == 1);
  CHECK(m["skipped_counts"]["corrupt"] == 1);
  CHECK(m["converted_counts"]["grayscale"] == 1);
  CHECK(m["converted_counts"]["cmyk"] == 1);
  CHECK(m["converted_counts"]["16bit"] == 1);
  CHECK(m["converted_counts"]["palette"] == 1);
  CHECK(m["converted_counts"]["alpha"] == 1);
  bool named = false;
  for (const auto& s : m["skipped"]) named = named || (s["file"] == "k_small.jpg" && s["reason"] == "too_small");
  CHECK(named);
  ShardReader r(out);
  CHECK(r.count() == 7);
  // The PNG is lossless: the stored crop is the centre 64x64 of the image.
  const auto px = r.read_images(1, 1);
  CHECK(px[0] == img.px(8, 4)[0]);
  CHECK(px[(63 * 64 + 63) * 3 + 2] == img.px(71, 67)[2]);
}

// `jpg` with the height and width its SOF0 header claims replaced (a crafted or damaged file).
static std::string with_sof0_size(std::string jpg, int w, int h) {
  for (size_t i = 2; i + 8 < jpg.size(); ++i)
    if (static_cast<unsigned char>(jpg[i]) == 0xFF && static_cast<unsigned char>(jpg[i + 1]) == 0xC0) {
      const unsigned char dims[4] = {static_cast<unsigned char>(h >> 8), static_cast<unsigned char>(h),
                                     static_cast<unsigned char>(w >> 8), static_cast<unsigned char>(w)};
      for (int k = 0; k < 4; ++k) jpg[i + 5 + k] = static_cast<char>(dims[k]);
      return jpg;
    }
  FAIL("no SOF0 marker in the encoded JPEG");
  return jpg;
}

TEST_CASE("a JPEG claiming 65500x65500 and a file whose name is not UTF-8 are skipped, the rest sharded") {
  const std::string src = tmpdir("hostile_src"), out = tmpdir("hostile_out");
  Image img(80, 72);
  for (size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = static_cast<uint8_t>(i * 5);
  const std::string jpg = encode_jpeg(img, 90);
  sg::write_file_atomic(src + "/a_good.jpg", jpg);
  sg::write_file_atomic(src + "/b_huge.jpg", with_sof0_size(jpg, 65500, 65500));
  sg::write_file_atomic(src + "/c_bad\xff\xfe\\name.jpg", "not an image");  // Latin-1 bytes and a backslash
  sg::write_file_atomic(src + "/d_good.png", encode_png(img));
  Recipe r;
  r.name = "t";
  r.pattern = "*";
  r.flip = "before_resize";
  r.steps = {{"center_crop", 64, ""}};
  ShardOptions opt;
  opt.out_dir = out;
  opt.shard_size = 2;
  const auto m = run_sharding(files_source(src, r), opt);
  CHECK(m["count"] == 2);
  CHECK(m["skipped_counts"]["too_large"] == 1);
  CHECK(m["skipped_counts"]["not_an_image"] == 1);
  std::map<std::string, std::string> reasons;
  for (const auto& s : m["skipped"]) reasons[s["file"].get<std::string>()] = s["reason"].get<std::string>();
  CHECK(reasons["b_huge.jpg"] == "too_large");
  // Invalid bytes as \xNN, and the backslash itself as \x5C so the escaping can be undone.
  CHECK(reasons["c_bad\\xFF\\xFE\\x5Cname.jpg"] == "not_an_image");
  // What was written parses back (manifest.json and the shard markers are valid UTF-8 JSON).
  CHECK(sg::read_json(out + "/manifest.json")["skipped"].size() == 2);
  ShardReader reader(out);
  CHECK(reader.count() == 2);
}

TEST_CASE("lowered decode limits skip more files as too_large and rebuild the shards instead of keeping them") {
  const std::string src = tmpdir("limits_src"), out = tmpdir("limits_out");
  sg::write_file_atomic(src + "/a.png", encode_png(Image(80, 72)));
  sg::write_file_atomic(src + "/b.png", encode_png(Image(40, 40)));
  Recipe r;
  r.name = "t";
  r.pattern = "*";
  r.flip = "before_resize";
  r.steps = {{"center_crop", 32, ""}};
  ShardOptions opt;
  opt.out_dir = out;
  opt.shard_size = 4;
  ShardSource source = files_source(src, r);
  const auto first = run_sharding(source, opt);
  CHECK(first["count"] == 2);
  source.limits.max_pixels = 40 * 40;  // a.png (80x72) is now over the limit
  const auto lowered = run_sharding(source, opt);
  CHECK(lowered["count"] == 1);
  CHECK(lowered["shards_built"] == 1);
  REQUIRE(lowered["skipped"].size() == 1);
  CHECK(lowered["skipped"][0]["reason"] == "too_large");
  source.limits = DecodeLimits{};
  const auto again = run_sharding(source, opt);
  CHECK(again["shards_built"] == 1);
  CHECK(again["content_hash"] == first["content_hash"]);
}

TEST_CASE("an empty glob and an unwritable output are clear errors naming the path") {
  const std::string src = tmpdir("empty");
  Recipe r;
  r.name = "t";
  r.pattern = "*.jpg";
  r.flip = "before_resize";
  r.steps = {{"center_crop", 64, ""}};
  CHECK_THROWS_WITH_AS(files_source(src, r), doctest::Contains((src + "/*.jpg").c_str()), sg::ConfigError);
  sg::write_file_atomic(src + "/file", "x");
  ShardOptions opt;
  opt.out_dir = src + "/file/out";
  CHECK_THROWS_WITH_AS(run_sharding(synth_source(small_synth()), opt), doctest::Contains((src + "/file").c_str()), sg::IoError);
}

TEST_CASE("recipes: unknown names list the valid ones, bad keys name file and line") {
  const std::string dir = std::string(SG_SOURCE_DIR) + "/datasets";
  CHECK(find_recipe("celeba", {dir}).store_size() == 256);
  CHECK(find_recipe("bfm", {dir}).store_size() == 170);
  CHECK(find_recipe("cats", {dir}).flip == "after_resize");
  CHECK_THROWS_WITH_AS(find_recipe("celeb", {dir}), doctest::Contains("did you mean 'celeba'"), sg::ConfigError);
  const std::string bad = tmpdir("recipes") + "/bad.toml";
  sg::write_file_atomic(bad, "name = \"x\"\n[[step]]\nop = \"center_crop\"\nsize = 64\nsizee = 3\n");
  CHECK_THROWS_WITH_AS(load_recipe(bad), doctest::Contains("bad.toml:5"), sg::ConfigError);
  // CelebA's pipeline on a 178x218 image gives the 256 crop.
  Image face(178, 218);
  CHECK(apply_recipe(find_recipe("celeba", {dir}), face).width == 256);
  // A 4000x1 strip is small, but CelebA's resize_shorter 256 would make it 1,024,000x256.
  CHECK_THROWS_WITH_AS(apply_recipe(find_recipe("celeba", {dir}), Image(4000, 1)), doctest::Contains("max_image_pixels"),
                       RecipeSkip);
}
