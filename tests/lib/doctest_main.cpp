// The main of every test_<folder> executable: doctest, or the worker SG_TEST_WORKER names
// (test_worker.h).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "test_worker.h"

std::map<std::string, std::function<int()>>& sg::test::workers() {
  static std::map<std::string, std::function<int()>> all;
  return all;
}

namespace {

// How many test cases the last run's filters let through (doctest reports it only to reporters).
int g_matched = -1;

struct MatchCounter : doctest::IReporter {
  explicit MatchCounter(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& s) override { g_matched = static_cast<int>(s.numTestCasesPassingFilters); }
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};
DOCTEST_REGISTER_LISTENER("sg_match_counter", 1, MatchCounter);

}  // namespace

int main(int argc, char** argv) {
  if (const char* name = std::getenv("SG_TEST_WORKER")) {
    const auto it = sg::test::workers().find(name);
    if (it == sg::test::workers().end()) {
      std::fprintf(stderr, "SG_TEST_WORKER=%s: no such worker in this executable\n", name);
      return 2;
    }
    return it->second();
  }
  doctest::Context context(argc, argv);
  const int rc = context.run();
  // ctest runs each test case as --test-case=<its name>: a name ctest cut short (at a ';', which
  // splits its lists) matched no test case, and doctest passed with nothing run. 16 test cases
  // passed that way without ever running under ctest.
  for (int i = 1; i < argc; ++i)
    if ((std::strncmp(argv[i], "--test-case=", 12) == 0 || std::strncmp(argv[i], "-tc=", 4) == 0) && g_matched == 0) {
      std::fprintf(stderr, "%s matched no test case (a test case's name must not contain ';')\n", argv[i]);
      return rc == 0 ? 1 : rc;
    }
  return rc;
}
