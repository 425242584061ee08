#pragma once
// Seeds as users write them ("0 1 2", "0,1,2", "0-7", "3,10-12") and their split into the
// tasks of a fan-out stage: task t takes seeds [t * per_task, (t + 1) * per_task).
#include <cstdint>
#include <string>
#include <vector>

namespace sg::render {

// In the order written, duplicates refused; ConfigError naming `what` on anything else.
std::vector<int64_t> parse_seeds(const std::string& text, const std::string& what = "seeds");
int task_count(size_t seeds, int64_t per_task);  // ceil(seeds / per_task), per_task >= 1
// The seeds of task `task` (-1: all of them).
std::vector<int64_t> seeds_of_task(const std::vector<int64_t>& seeds, int64_t per_task, int task);

}  // namespace sg::render
