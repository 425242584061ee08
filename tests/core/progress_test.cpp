#include "core/progress.h"

#include <doctest/doctest.h>

#include <fstream>

#include "core/log.h"

TEST_CASE("format_duration") {
  CHECK(sg::format_duration(0) == "0:00");
  CHECK(sg::format_duration(61.4) == "1:01");
  CHECK(sg::format_duration(3723) == "1:02:03");
  CHECK(sg::format_duration(-1) == "?");
}

TEST_CASE("progress writes JSON-lines events with done/total") {
  const char* t = std::getenv("SG_TEST_TMP");
  const std::string path = std::string(t ? t : "/tmp") + "/core_progress.jsonl";
  std::remove(path.c_str());
  sg::log::set_level(sg::log::Level::warn);
  sg::log::attach_jsonl(path);
  sg::Progress p("work", 10);
  for (int i = 0; i < 10; ++i) p.advance();
  p.finish();
  sg::log::attach_jsonl("");
  std::ifstream in(path);
  std::string line, last;
  int events = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    if (j.value("event", "") == "progress") {
      ++events;
      last = line;
    }
  }
  CHECK(events >= 2);
  auto j = nlohmann::json::parse(last);
  CHECK(j["done"] == 10);
  CHECK(j["total"] == 10);
  CHECK(j["label"] == "work");
}
