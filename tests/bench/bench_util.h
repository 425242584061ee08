// Helpers the benchmarks in tests/bench share (each bench is its own executable, so they are
// inline here rather than a library). Only the standard library: a bench includes this without
// pulling in any project module it does not measure.
#pragma once

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

namespace sg::bench {

// Wall seconds on the monotonic clock (steady_clock: NTP adjustments do not move it); only
// differences are meaningful.
inline double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// CPU seconds this process has used, all threads. The machine is shared and loaded (2 vCPUs,
// builds and training running), so wall time moves with the load; CPU time counts our own work
// only, and printed beside wall time it shows when we were waiting for a core (CPU < wall with
// one intra-op thread).
inline double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// The 1-minute load average (first field of /proc/loadavg; 0 if unreadable), sampled before every
// round and summarised, so a reader can tell a slow round from a busy machine.
inline double load1() {
  std::ifstream f("/proc/loadavg");
  double l = 0;
  f >> l;
  return l;
}

// Median of the repetitions (sorts its own copy; v must not be empty). The benches report medians
// because single rounds on the loaded machine stray in both directions.
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The argument following `name` on the command line (`--reps 3`), or `fallback` when absent:
// the benches take a few numeric options and need no parser.
inline const char* arg(int argc, char** argv, const char* name, const char* fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  return fallback;
}

// Paths of the libraries mapped into this process (/proc/self/maps) that contain any of `keys`,
// e.g. {"blas", "lapack"}: the rates depend on which BLAS LibTorch actually loaded, so each bench
// prints it. Sorted and without repeats (one library is mapped several times).
inline std::set<std::string> mapped_libraries(std::initializer_list<const char*> keys) {
  std::ifstream maps("/proc/self/maps");
  std::set<std::string> libs;
  for (std::string line; std::getline(maps, line);) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    for (const char* key : keys)
      if (path.find(key) != std::string::npos) libs.insert(path);
  }
  return libs;
}

}  // namespace sg::bench
