#pragma once
// Test code that must run in a process of its own (under mpirun, say), started by a test case
// with SG_TEST_WORKER=<name> in its environment: doctest_main.cpp then runs that worker instead
// of the test cases. A worker is thus never a test case, which ctest would discover and run
// alone, where it could only pass without checking anything. Its exit code is the process's;
// an exception ends it with a failure.
#include <functional>
#include <map>
#include <string>

namespace sg::test {

std::map<std::string, std::function<int()>>& workers();

struct Worker {
  Worker(const std::string& name, std::function<int()> run) { workers()[name] = std::move(run); }
};

}  // namespace sg::test
