#include "core/cgroup.h"

#include <fstream>
#include <sstream>

namespace sg {

std::string read_small_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) return "";
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::vector<std::string> self_and_ancestors(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path == "/") path.clear();
  std::vector<std::string> out;
  for (;;) {
    out.push_back(path);
    if (path.empty()) break;
    const size_t slash = path.rfind('/');
    path = slash == std::string::npos ? "" : path.substr(0, slash);
  }
  return out;
}

std::vector<CgroupDir> cgroup_dirs(const std::string& proc_cgroup, const std::string& mountinfo,
                                   const std::string& controller) {
  // /proc/self/cgroup: "0::/path" (v2) or "N:cpu,cpuacct:/path" (v1).
  std::string v2_path, v1_path;
  bool have_v2 = false, have_v1 = false;
  {
    std::istringstream in(proc_cgroup);
    std::string line;
    while (std::getline(in, line)) {
      const size_t a = line.find(':'), b = a == std::string::npos ? a : line.find(':', a + 1);
      if (b == std::string::npos) continue;
      const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
      if (line.compare(0, a, "0") == 0 && controllers.empty()) {
        v2_path = path;
        have_v2 = true;
      }
      std::istringstream cs(controllers);
      std::string c;
      while (std::getline(cs, c, ','))
        if (c == controller) {
          v1_path = path;
          have_v1 = true;
        }
    }
  }
  // mountinfo says where each hierarchy is mounted and which of its cgroups is the mount's root
  // (a container's own).
  std::vector<CgroupDir> out;
  std::istringstream mounts(mountinfo);
  std::string line;
  while (std::getline(mounts, line)) {
    // id parent major:minor root mount-point options [optional...] - fstype source super-options
    std::istringstream f(line);
    std::string id, parent, dev, mroot, point, word;
    f >> id >> parent >> dev >> mroot >> point;
    while (f >> word && word != "-") {
    }
    std::string fstype, source, super;
    f >> fstype >> source >> super;
    auto relative = [&](const std::string& path) {
      if (mroot != "/" && path.rfind(mroot, 0) == 0) return path.substr(mroot.size());
      return path;
    };
    if (fstype == "cgroup2" && have_v2) {
      out.push_back({point, relative(v2_path), true});
    } else if (fstype == "cgroup" && have_v1) {
      std::istringstream opts(super);
      std::string o;
      bool has = false;
      while (std::getline(opts, o, ',')) has = has || o == controller;
      if (has) out.push_back({point, relative(v1_path), false});
    }
  }
  return out;
}

std::vector<CgroupDir> own_cgroup_dirs(const std::string& controller) {
  return cgroup_dirs(read_small_file("/proc/self/cgroup"), read_small_file("/proc/self/mountinfo"), controller);
}

}  // namespace sg
