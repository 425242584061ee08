#include "render/seed_list.h"

#include <algorithm>
#include <set>

#include "core/error.h"

namespace sg::render {

std::vector<int64_t> parse_seeds(const std::string& text, const std::string& what) {
  std::vector<int64_t> out;
  std::string item;
  auto bad = [&](const std::string& why) {
    return ConfigError(what + ": '" + text + "': " + why +
                       " (expected seeds >= 0 separated by commas or spaces, or ranges like 0-7)");
  };
  auto number = [&](const std::string& s) -> int64_t {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) throw bad("'" + s + "' is not a seed");
    if (s.size() > 12) throw bad("'" + s + "' is too large");
    return std::stoll(s);
  };
  auto flush = [&] {
    if (item.empty()) return;
    const auto dash = item.find('-');
    if (dash == std::string::npos) {
      out.push_back(number(item));
    } else {
      const int64_t a = number(item.substr(0, dash)), b = number(item.substr(dash + 1));
      if (b < a) throw bad("range '" + item + "' runs backwards");
      if (b - a > 1000000) throw bad("range '" + item + "' is too long");
      for (int64_t s = a; s <= b; ++s) out.push_back(s);
    }
    item.clear();
  };
  for (char c : text) {
    if (c == ',' || c == ' ' || c == '\t') flush();
    else item += c;
  }
  flush();
  if (out.empty()) throw bad("no seeds");
  std::set<int64_t> seen;
  for (int64_t s : out)
    if (!seen.insert(s).second) throw bad("seed " + std::to_string(s) + " appears twice");
  return out;
}

int task_count(size_t seeds, int64_t per_task) {
  if (per_task < 1) throw ConfigError("seeds_per_task must be >= 1, got " + std::to_string(per_task));
  return static_cast<int>((int64_t(seeds) + per_task - 1) / per_task);
}

std::vector<int64_t> seeds_of_task(const std::vector<int64_t>& seeds, int64_t per_task, int task) {
  if (task < 0) return seeds;
  const int n = task_count(seeds.size(), per_task);
  if (task >= n)
    throw ConfigError("task " + std::to_string(task) + " out of range: " + std::to_string(seeds.size()) +
                      " seeds in chunks of " + std::to_string(per_task) + " make " + std::to_string(n) + " tasks");
  const size_t head = size_t(task) * size_t(per_task);
  const size_t tail = std::min(seeds.size(), head + size_t(per_task));
  return std::vector<int64_t>(seeds.begin() + head, seeds.begin() + tail);
}

}  // namespace sg::render
