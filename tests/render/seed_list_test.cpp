#include "core/error.h"
#include "render/seed_list.h"
#include <doctest/doctest.h>

using namespace sg::render;

TEST_CASE("seed lists parse in every written form") {
  CHECK(parse_seeds("0 1 2") == std::vector<int64_t>{0, 1, 2});
  CHECK(parse_seeds("3,10-12") == std::vector<int64_t>{3, 10, 11, 12});
  CHECK(parse_seeds(" 7 , 5 ") == std::vector<int64_t>{7, 5});
  CHECK_THROWS_AS(parse_seeds(""), sg::ConfigError);
  CHECK_THROWS_AS(parse_seeds("1,x"), sg::ConfigError);
  CHECK_THROWS_AS(parse_seeds("5-3"), sg::ConfigError);
  CHECK_THROWS_WITH_AS(parse_seeds("1,2,1"), doctest::Contains("twice"), sg::ConfigError);
}

TEST_CASE("seeds split into tasks of seeds_per_task") {
  const std::vector<int64_t> s{0, 1, 2, 3, 4};
  CHECK(task_count(s.size(), 2) == 3);
  CHECK(task_count(s.size(), 5) == 1);
  CHECK(seeds_of_task(s, 2, 0) == std::vector<int64_t>{0, 1});
  CHECK(seeds_of_task(s, 2, 2) == std::vector<int64_t>{4});
  CHECK(seeds_of_task(s, 2, -1) == s);
  CHECK_THROWS_AS(seeds_of_task(s, 2, 3), sg::ConfigError);
  CHECK_THROWS_AS(task_count(s.size(), 0), sg::ConfigError);
}
