// The main of every test_<folder> executable: doctest, or the worker SG_TEST_WORKER names
// (test_worker.h).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>

#include "test_worker.h"

std::map<std::string, std::function<int()>>& sg::test::workers() {
  static std::map<std::string, std::function<int()>> all;
  return all;
}

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
  return context.run();
}
