#include "shape/ply.h"

#include <cstring>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"

namespace sg::shape {

namespace {

template <class T> void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));  // x86-64 and every HPC target here are little-endian
  out.append(b, sizeof(T));
}

}  // namespace

std::string encode_ply(const Mesh& mesh, const std::string& comment) {
  const bool normals = mesh.normals.size() == mesh.vertices.size() && !mesh.vertices.empty();
  std::string out = "ply\nformat binary_little_endian 1.0\n";
  if (!comment.empty()) {
    std::istringstream lines(comment);
    for (std::string l; std::getline(lines, l);) out += "comment " + l + "\n";
  }
  out += "element vertex " + std::to_string(mesh.vertices.size()) + "\n";
  out += "property float x\nproperty float y\nproperty float z\n";
  if (normals) out += "property float nx\nproperty float ny\nproperty float nz\n";
  out += "element face " + std::to_string(mesh.faces.size()) + "\n";
  out += "property list uchar uint vertex_indices\nend_header\n";
  out.reserve(out.size() + mesh.vertices.size() * 24 + mesh.faces.size() * 13);
  for (size_t i = 0; i < mesh.vertices.size(); ++i) {
    for (float v : mesh.vertices[i]) put(out, v);
    if (normals)
      for (float v : mesh.normals[i]) put(out, v);
  }
  for (const auto& f : mesh.faces) {
    put<uint8_t>(out, 3);
    for (uint32_t v : f) put(out, v);
  }
  return out;
}

void write_ply(const std::string& path, const Mesh& mesh, const std::string& comment) {
  write_file_atomic(path, encode_ply(mesh, comment));
}

Mesh decode_ply(const std::string& bytes, const std::string& source) {
  auto bad = [&](const std::string& what) { return FormatError(source + ": PLY: " + what); };
  const size_t end = bytes.find("end_header\n");
  if (bytes.rfind("ply\n", 0) != 0 || end == std::string::npos) throw bad("no 'ply' magic or no end_header");
  std::istringstream header(bytes.substr(0, end));
  std::string line, element;
  int64_t nv = -1, nf = -1;
  std::vector<std::string> vprops;
  std::string count_type, index_type;
  while (std::getline(header, line)) {
    std::istringstream w(line);
    std::string key;
    w >> key;
    if (key == "format") {
      std::string f;
      w >> f;
      if (f != "binary_little_endian") throw bad("format '" + f + "' (expected binary_little_endian)");
    } else if (key == "element") {
      int64_t n;
      w >> element >> n;
      if (element == "vertex") nv = n;
      else if (element == "face") nf = n;
      else throw bad("unexpected element '" + element + "'");
    } else if (key == "property") {
      std::string type;
      w >> type;
      if (element == "vertex") {
        std::string name;
        w >> name;
        if (type != "float" && type != "float32") throw bad("vertex property '" + name + "' is not float");
        vprops.push_back(name);
      } else if (element == "face") {
        std::string name;
        if (type != "list") throw bad("face property is not a list");
        w >> count_type >> index_type >> name;
      }
    }
  }
  const bool normals = vprops.size() == 6;
  if (nv < 0 || nf < 0 || (vprops.size() != 3 && !normals) || vprops[0] != "x")
    throw bad("expected vertex x y z [nx ny nz] and a face element");
  if ((count_type != "uchar" && count_type != "uint8") ||
      (index_type != "uint" && index_type != "int" && index_type != "uint32" && index_type != "int32"))
    throw bad("face list must be uchar count, (u)int indices");
  size_t pos = end + std::strlen("end_header\n");
  const size_t need = pos + size_t(nv) * vprops.size() * 4 + size_t(nf) * 13;
  if (bytes.size() != need)
    throw bad("size " + std::to_string(bytes.size()) + " bytes, the header says " + std::to_string(need));
  Mesh m;
  m.vertices.resize(nv);
  if (normals) m.normals.resize(nv);
  for (int64_t i = 0; i < nv; ++i) {
    std::memcpy(m.vertices[i].data(), bytes.data() + pos, 12);
    pos += 12;
    if (normals) {
      std::memcpy(m.normals[i].data(), bytes.data() + pos, 12);
      pos += 12;
    }
  }
  m.faces.resize(nf);
  for (int64_t i = 0; i < nf; ++i) {
    if (uint8_t(bytes[pos]) != 3) throw bad("face " + std::to_string(i) + " is not a triangle");
    std::memcpy(m.faces[i].data(), bytes.data() + pos + 1, 12);
    for (uint32_t v : m.faces[i])
      if (v >= uint32_t(nv)) throw bad("face " + std::to_string(i) + " indexes vertex " + std::to_string(v));
    pos += 13;
  }
  return m;
}

Mesh read_ply(const std::string& path) { return decode_ply(read_file(path), path); }

}  // namespace sg::shape
