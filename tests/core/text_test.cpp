#include "core/text.h"

#include <doctest/doctest.h>

#include "core/subprocess.h"

TEST_CASE("unknown_name_message suggests the closest name and lists all") {
  const std::string m = sg::unknown_name_message("stage kind", "shrad", {"train", "shard", "synth"});
  CHECK(m == "unknown stage kind 'shrad' (did you mean 'shard'?); valid: shard, synth, train");
  const std::string far = sg::unknown_name_message("key", "zzzzzzzz", {"fov", "psi"});
  CHECK(far == "unknown key 'zzzzzzzz'; valid: fov, psi");
}

TEST_CASE("shell_quote makes hostile values literal for sh") {
  const std::string hostile = "a b'c\"$(touch /tmp/sg_pwned)`id`;\nrm -rf x";
  sg::ProcessSpec spec;
  const std::string out = std::string(std::getenv("SG_TEST_TMP") ? std::getenv("SG_TEST_TMP") : "/tmp") +
                          "/core_quote.txt";
  spec.argv = {"sh", "-c", "printf %s " + sg::shell_quote(hostile) + " > " + sg::shell_quote(out)};
  const auto exit = sg::run_process(spec);
  CHECK(exit.code == 0);
  FILE* f = std::fopen(out.c_str(), "rb");
  REQUIRE(f);
  char buf[256] = {0};
  const size_t n = std::fread(buf, 1, sizeof buf, f);
  std::fclose(f);
  CHECK(std::string(buf, n) == hostile);
  std::remove(out.c_str());
}
