#include <doctest/doctest.h>

#include <filesystem>
#include <set>

#include "data/image.h"
#include "data/loader.h"
#include "data/sharder.h"

using namespace sg::data;
namespace fs = std::filesystem;

// One shard set for every loader test: 40 synthetic samples at 32 px.
static const std::string& shards() {
  static const std::string dir = [] {
    const std::string base = std::getenv("SG_TEST_TMP") ? std::getenv("SG_TEST_TMP") : "/tmp";
    const std::string d = base + "/loader_test/shards";
    SynthParams p;
    p.count = 40;
    p.size = 32;
    p.seed = 11;
    ShardOptions opt;
    opt.out_dir = d;
    opt.shard_size = 16;
    run_sharding(synth_source(p), opt);
    return d;
  }();
  return dir;
}

TEST_CASE("batches have the right shape, range and pixels (flip before the nearest resize)") {
  LoaderOptions o;
  o.dir = shards();
  o.batch_size = 4;
  o.img_size = 16;
  Loader l(o);
  CHECK(l.subset_size() == 40);
  CHECK(l.batches_per_epoch() == 10);
  CHECK(l.cached());
  const Batch b = l.next();
  CHECK(b.shape == std::vector<int64_t>{4, 3, 16, 16});
  REQUIRE(b.data.size() == 4 * 3 * 16 * 16);
  float lo = 1, hi = -1;
  for (float v : b.data) lo = std::min(lo, v), hi = std::max(hi, v);
  CHECK(lo >= -1.0f);
  CHECK(hi <= 1.0f);
  CHECK(lo == -1.0f);  // black background
  ShardReader r(shards());
  for (int j = 0; j < 4; ++j) {
    Image base(32, 32);
    base.rgb = r.read_images(b.samples[j], 1);
    const Image want = resize_nearest_tensor(b.flipped[j] ? hflip(base) : base, 16, 16);
    for (int y = 0; y < 16; y += 5)
      for (int x = 0; x < 16; x += 3)
        CHECK(b.data[((j * 3 + 1) * 16 + y) * 16 + x] == doctest::Approx(want.px(x, y)[1] / 127.5 - 1));
  }
}

TEST_CASE("ranks get disjoint equal subsets and every epoch covers the rank's subset once") {
  LoaderOptions o;
  o.dir = shards();
  o.batch_size = 5;
  o.img_size = 8;
  o.ranks = 3;
  std::set<int64_t> seen_all;
  for (int rank = 0; rank < 3; ++rank) {
    o.rank = rank;
    Loader l(o);
    CHECK(l.subset_size() == 13);  // 40 / 3, remainder dropped
    CHECK(l.batches_per_epoch() == 2);
    for (int64_t s : l.subset()) CHECK(seen_all.insert(s).second);
    std::set<int64_t> epoch;
    for (int k = 0; k < 2; ++k)
      for (int64_t s : l.next().samples) CHECK(epoch.insert(s).second);
    CHECK(l.state().epoch == 1);
    CHECK(l.state().cursor == 0);
  }
  CHECK(seen_all.size() == 39);
}

TEST_CASE("a restored position continues the same sequence, epochs differ, cache and streaming agree") {
  LoaderOptions o;
  o.dir = shards();
  o.batch_size = 6;
  o.img_size = 16;
  o.seed = 5;
  o.rank = 1;
  o.ranks = 2;
  std::vector<Batch> ref;
  {
    Loader l(o);
    for (int i = 0; i < 8; ++i) ref.push_back(l.next());  // crosses epochs (3 batches each)
  }
  CHECK(ref[0].samples != ref[3].samples);
  Loader l(o);
  l.next();
  l.next();
  const LoaderState saved{ref[5].position};
  l.restore(saved);
  for (int i = 5; i < 8; ++i) {
    const Batch b = l.next();
    CHECK(b.samples == ref[i].samples);
    CHECK(b.flipped == ref[i].flipped);
    CHECK(b.data == ref[i].data);
  }
  o.cache_bytes = 0;  // stream from the shards instead
  Loader s(o);
  CHECK(!s.cached());
  s.restore(saved);
  CHECK(s.next().data == ref[5].data);
  // A stage change of the size: the same samples, at the new size.
  s.set_img_size(32);
  const Batch big = s.next();
  CHECK(big.shape[2] == 32);
  CHECK(big.samples == ref[6].samples);
}
