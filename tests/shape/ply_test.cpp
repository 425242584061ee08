// Binary PLY: written meshes parse back with the right counts and values, here and in Python
// (numpy: a few lines that read the header and the two element blocks).
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/subprocess.h"
#include "shape/mesh.h"
#include "shape/mrc.h"
#include "shape/ply.h"
#include <doctest/doctest.h>

namespace fs = std::filesystem;
using namespace sg::shape;

namespace {

Mesh tetrahedron() {
  Mesh m;
  m.vertices = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  m.faces = {{0, 2, 1}, {0, 1, 3}, {0, 3, 2}, {1, 2, 3}};
  compute_vertex_normals(m);
  return m;
}

fs::path tmp_dir(const std::string& name) {
  const char* t = std::getenv("SG_TEST_TMP");
  fs::path d = fs::path(t ? t : "/tmp") / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST_CASE("tetrahedron measures") {
  Mesh m = tetrahedron();
  CHECK(enclosed_volume(m) == doctest::Approx(1.0 / 6));
  CHECK(surface_area(m) == doctest::Approx(1.5 + std::sqrt(3.0) / 2));
  CHECK(topology(m).watertight());
  m.faces.pop_back();
  CHECK(topology(m).boundary_edges == 3);
}

TEST_CASE("PLY round trip") {
  const Mesh m = tetrahedron();
  const fs::path p = tmp_dir("shape-ply") / "t.ply";
  write_ply(p.string(), m, "a comment\nover two lines");
  const Mesh back = read_ply(p.string());
  REQUIRE(back.vertices.size() == 4);
  REQUIRE(back.faces.size() == 4);
  REQUIRE(back.normals.size() == 4);
  CHECK(back.vertices == m.vertices);
  CHECK(back.faces == m.faces);
  CHECK(back.normals == m.normals);
  // A truncated file is an error naming it.
  const std::string bytes = sg::read_file(p.string());
  CHECK_THROWS_WITH_AS(decode_ply(bytes.substr(0, bytes.size() - 1), "cut.ply"),
                       doctest::Contains("cut.ply"), sg::FormatError);
}

TEST_CASE("PLY and MRC load in Python with numpy") {
  const fs::path d = tmp_dir("shape-ply-py");
  write_ply((d / "t.ply").string(), tetrahedron());
  std::vector<float> grid(2 * 3 * 4);
  for (size_t i = 0; i < grid.size(); ++i) grid[i] = float(i);
  write_mrc((d / "g.mrc").string(), grid, 2, 3, 4, 0.1, {-0.15, -0.15, -0.15});
  sg::ProcessSpec spec;
  spec.argv = {"/usr/bin/python3", std::string(SG_SOURCE_DIR) + "/tests/shape/read_ply.py",
               (d / "t.ply").string(), (d / "g.mrc").string()};
  spec.output_path = (d / "out.txt").string();
  const auto exit = sg::run_process(spec);
  std::ifstream f(d / "out.txt");
  std::string out((std::istreambuf_iterator<char>(f)), {});
  INFO(out);
  REQUIRE(exit.code == 0);
  CHECK(out.find("vertices 4 faces 4 normals 1 volume 0.166667") != std::string::npos);
  CHECK(out.find("mrc 2 3 4 value[1,2,3] 23") != std::string::npos);
}
