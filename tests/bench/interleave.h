#pragma once
// Benchmarks that compare alternatives on a shared machine run them interleaved: every round
// runs each part once, in order on even rounds and reversed on odd ones, so that a change of
// load falls on all of them alike; the 1-minute load average before each round is kept for the
// report. Used by bench_eval, bench_inversion and bench_render.
#include <fmt/format.h>

#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "bench_util.h"

namespace sg::bench {

struct Part {
  std::string name;
  std::function<void()> run;
  std::vector<double> wall, cpu;  // seconds, one per round
};

// Stops after `rounds` rounds, or earlier once `budget` seconds are spent (at least 1 round).
inline void interleave(std::vector<Part>& parts, int rounds, std::vector<double>& loads,
                       double budget = std::numeric_limits<double>::infinity()) {
  const double t0 = now();
  for (int r = 0; r < rounds; ++r) {
    if (r > 0 && now() - t0 > budget) {
      fmt::print("  (budget of {:.0f} s spent: stopping after {} rounds)\n", budget, r);
      break;
    }
    loads.push_back(load1());
    fmt::print("  round {} (load {:.2f}):", r + 1, loads.back());
    for (size_t k = 0; k < parts.size(); ++k) {
      Part& p = parts[r % 2 ? parts.size() - 1 - k : k];
      const double w0 = now(), c0 = cpu_now();
      p.run();
      p.wall.push_back(now() - w0);
      p.cpu.push_back(cpu_now() - c0);
      fmt::print(" {} {:.3f} s (cpu {:.3f})", p.name, p.wall.back(), p.cpu.back());
      std::fflush(stdout);
    }
    fmt::print("\n");
  }
}

}  // namespace sg::bench
