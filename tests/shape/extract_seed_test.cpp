// One seed's extraction from a (small, random) generator: an empty mesh when the density never
// reaches the threshold, a closed mesh at half the maximum (the same as relative_threshold 0.5),
// the record matching the PLY, the same bytes for the same seed, and finished_seed honouring the
// settings key.
#include <cstdlib>
#include <filesystem>

#include "core/atomic_file.h"
#include "shape/extract_seed.h"
#include "shape/ply.h"
#include <doctest/doctest.h>

namespace fs = std::filesystem;
using namespace sg::shape;

TEST_CASE("extract one seed from a generator") {
  const char* t = std::getenv("SG_TEST_TMP");
  const fs::path out = fs::path(t ? t : "/tmp") / "shape-extract-seed";
  fs::remove_all(out);
  fs::create_directories(out);
  at::manual_seed(3);
  sg::model::GeneratorConfig cfg;
  cfg.hidden_dim = 32;
  cfg.map_hidden_dim = 32;
  cfg.surf_track = false;
  sg::model::Generator gen(cfg);
  gen->eval();

  ExtractSettings s;
  s.grid = GridSpec{20, 0.3, true};
  s.sigma_threshold = 1e9;
  s.key = "a";
  const auto empty = extract_seed(gen, s, 4, out.string());
  CHECK(empty.at("faces") == 0);
  const double top = empty.at("max_density").get<double>();
  REQUIRE(top > 0);

  s.sigma_threshold = top / 2;
  s.write_mrc = true;
  s.key = "b";
  CHECK(finished_seed(out.string(), 4, "b").is_null());
  const auto rec = extract_seed(gen, s, 4, out.string());
  CHECK(!finished_seed(out.string(), 4, "b").is_null());
  CHECK(finished_seed(out.string(), 4, "c").is_null());
  const Mesh m = read_ply((out / "seed00004.ply").string());
  CHECK(m.faces.size() == rec.at("faces").get<size_t>());
  CHECK(m.vertices.size() == rec.at("vertices").get<size_t>());
  CHECK(m.faces.size() > 0);
  CHECK(rec.at("watertight") == true);
  CHECK(fs::file_size(out / "seed00004.mrc") == 1024 + 4 * 20 * 20 * 20);
  // World units: every vertex within the grid's bounds [-0.15, 0.15], widened by one voxel on
  // each side (where the surface is closed at the border) and one more for the shear.
  const float vs = 0.3f / 19;
  for (const auto& v : m.vertices)
    for (float c : v) CHECK((c >= -0.1501f - vs && c <= 0.1501f + 2 * vs));

  // A relative threshold of one half is the same level as sigma_threshold = max / 2: the same mesh.
  s.sigma_threshold = 35;
  s.relative_threshold = 0.5;
  s.key = "relative";
  const auto rel = extract_seed(gen, s, 4, out.string());
  CHECK(rel.at("iso_level").get<double>() == doctest::Approx(top / 2).epsilon(1e-6));
  CHECK(rel.at("faces") == rec.at("faces"));
  CHECK(rel.at("vertices") == rec.at("vertices"));
  s.relative_threshold = 0;
  s.sigma_threshold = top / 2;
  s.key = "b";
  extract_seed(gen, s, 4, out.string());

  const std::string first = sg::read_file((out / "seed00004.ply").string());
  gen->avg_frequencies = at::Tensor();  // recomputed from the same fixed stream
  extract_seed(gen, s, 4, out.string());
  CHECK(sg::read_file((out / "seed00004.ply").string()) == first);
}
