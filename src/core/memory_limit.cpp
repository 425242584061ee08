#include "core/memory_limit.h"

#include <algorithm>
#include <limits>
#include <sstream>

#include "core/cgroup.h"

namespace sg {
namespace {

// A non-negative count of bytes from a cgroup file, or -1 ("max", empty, not a number).
int64_t read_bytes(const std::string& file) {
  std::istringstream in(read_small_file(file));
  std::string word;
  if (!(in >> word) || word == "max") return -1;
  try {
    size_t used = 0;
    const long long v = std::stoll(word, &used);
    return used == word.size() && v >= 0 ? v : -1;
  } catch (const std::exception&) {
    return -1;  // out of range or not a number: no limit we can use
  }
}

int64_t smaller_limit(int64_t a, int64_t b) {
  if (a < 0) return b;
  if (b < 0) return a;
  return std::min(a, b);
}

int64_t memory_left(const std::string& root, const std::string& path, const char* limit_file,
                    const char* usage_file, int64_t no_limit_from) {
  int64_t left = -1;
  for (const auto& level : self_and_ancestors(path)) {
    const int64_t limit = read_bytes(root + level + "/" + limit_file);
    if (limit < 0 || limit >= no_limit_from) continue;
    const int64_t usage = std::max<int64_t>(0, read_bytes(root + level + "/" + usage_file));
    left = smaller_limit(left, std::max<int64_t>(0, limit - usage));
  }
  return left;
}

}  // namespace

int64_t cgroup_v2_memory_left(const std::string& root, const std::string& path) {
  return memory_left(root, path, "memory.max", "memory.current", std::numeric_limits<int64_t>::max());
}

int64_t cgroup_v1_memory_left(const std::string& root, const std::string& path) {
  // v1 writes "no limit" as the largest page-aligned value (9223372036854771712 on x86-64).
  return memory_left(root, path, "memory.limit_in_bytes", "memory.usage_in_bytes", int64_t{1} << 62);
}

MemoryAvailable available_memory() {
  MemoryAvailable m;
  m.bytes = std::numeric_limits<double>::infinity();
  std::istringstream meminfo(read_small_file("/proc/meminfo"));
  std::string line;
  while (std::getline(meminfo, line)) {  // "MemAvailable:   20480000 kB" (some lines have no unit)
    std::istringstream f(line);
    std::string key;
    double kb = 0;
    if (f >> key >> kb && key == "MemAvailable:") {
      m.bytes = kb * 1024;
      m.source = "MemAvailable";
    }
  }
  for (const CgroupDir& d : own_cgroup_dirs("memory")) {
    const int64_t left = d.v2 ? cgroup_v2_memory_left(d.root, d.path) : cgroup_v1_memory_left(d.root, d.path);
    if (left >= 0 && double(left) < m.bytes) {
      m.bytes = double(left);
      m.source = "the cgroup memory limit of " + d.root + d.path;
    }
  }
  return m;
}

}  // namespace sg
