#include "core/text.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

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

TEST_CASE("escape_non_utf8 keeps valid UTF-8, writes other bytes as \\xNN and the backslash as \\x5C") {
  CHECK(sg::escape_non_utf8("plain.jpg") == "plain.jpg");
  CHECK(sg::escape_non_utf8("caf\xC3\xA9_\xE6\x97\xA5_\xF0\x9F\x98\x80.jpg") == "caf\xC3\xA9_\xE6\x97\xA5_\xF0\x9F\x98\x80.jpg");
  CHECK(sg::escape_non_utf8("caf\xE9.jpg") == "caf\\xE9.jpg");  // Latin-1
  CHECK(sg::escape_non_utf8("a\\b") == "a\\x5Cb");               // so "\xE9" in a name stays distinct
  CHECK(sg::escape_non_utf8("\xC3") == "\\xC3");                 // cut-off sequence
  CHECK(sg::escape_non_utf8("\xC0\xAF") == "\\xC0\\xAF");        // overlong '/'
  CHECK(sg::escape_non_utf8("\xED\xA0\x80") == "\\xED\\xA0\\x80");  // UTF-16 surrogate
  CHECK(sg::escape_non_utf8("\xF4\x90\x80\x80") == "\\xF4\\x90\\x80\\x80");  // beyond U+10FFFF
  // What comes out is valid UTF-8: nlohmann::json dumps it without throwing.
  CHECK(nlohmann::json(sg::escape_non_utf8("x\xFF\xFEy")).dump() == "\"x\\\\xFF\\\\xFEy\"");
}
