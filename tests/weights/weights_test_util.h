#pragma once
// Shared by tests/weights/*_test.cpp: a scratch directory, the Python helper (weights_py.py, run
// with /usr/bin/python3, which has torch) and the value rule both sides compute.
#include <doctest/doctest.h>
#include <torch/torch.h>

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/subprocess.h"

namespace sg::weights::testing {

inline std::string scratch(const std::string& name) {
  const char* base = std::getenv("SG_TEST_TMP");
  const std::filesystem::path dir = std::filesystem::path(base ? base : "/tmp") / "weights" / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

// Runs tests/weights/weights_py.py with `args`; returns the exit code (output goes to `log`).
inline int python(const std::vector<std::string>& args, const std::string& log) {
  ProcessSpec spec;
  spec.argv = {"/usr/bin/python3", std::string(SG_SOURCE_DIR) + "/tests/weights/weights_py.py"};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.output_path = log;
  spec.env = {{"OMP_NUM_THREADS", "1"}};
  return run_process(spec).code;
}

// This process's private writable memory in bytes (VmData), which RLIMIT_DATA counts.
inline uint64_t data_bytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  uint64_t kb = 0;
  while (status >> key)
    if (key == "VmData:" && status >> kb) return kb * 1024;
  return 0;
}

// Runs `body` on a crafted input in a forked child, so that a stack overflow, a hang or a runaway
// allocation fails the test instead of killing the test binary. The child may allocate
// `budget` bytes beyond what it inherits (RLIMIT_DATA) and has `timeout_s` seconds. Returns the
// FormatError's message, or "<...>" saying what else happened: "<returned normally>",
// "<other exception: ...>", "<killed by signal 11>", "<timed out after 60 s>".
// The body must not use doctest assertions or LibTorch's thread pools (a forked child has
// only the calling thread).
inline std::string in_child(const std::function<void()>& body, int timeout_s = 60,
                            uint64_t budget = uint64_t{1} << 30) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const uint64_t limit = data_bytes() + budget;
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    at::set_num_threads(1);  // the parent's OpenMP workers do not exist in the child
    // doctest's crash handlers would report the child's crash as a second test failure; the
    // parent reports it, from the signal.
    for (int sig : {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL}) ::signal(sig, SIG_DFL);
    const rlimit data{limit, limit};
    ::setrlimit(RLIMIT_DATA, &data);
    std::string out;
    try {
      body();
      out = "<returned normally>";
    } catch (const sg::FormatError& e) {
      out = e.what();
    } catch (const std::exception& e) {
      out = std::string("<other exception: ") + e.what() + ">";
    }
    for (size_t done = 0; done < out.size();) {
      const ssize_t n = ::write(fds[1], out.data() + done, out.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string out;
  bool timed_out = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) < 0) continue;  // EINTR
    char buf[4096];
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) out.append(buf, static_cast<size_t>(n));
    else if (n == 0) break;  // the child closed its end: it exited or died
  }
  ::close(fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (timed_out) return "<timed out after " + std::to_string(timeout_s) + " s>";
  if (WIFSIGNALED(status)) return "<killed by signal " + std::to_string(WTERMSIG(status)) + ">";
  return out;
}

// Little-endian 4-byte integer, as BININT, LONG_BINPUT and BINUNICODE lengths take it.
inline std::string le32(uint32_t v) {
  std::string s;
  for (int k = 0; k < 4; ++k) s.push_back(static_cast<char>((v >> (8 * k)) & 0xFF));
  return s;
}

// BINUNICODE of `s`.
inline std::string pickled_str(const std::string& s) { return "X" + le32(static_cast<uint32_t>(s.size())) + s; }

// A legacy (non-zip) torch.save file around a hand-made object pickle: magic number, protocol
// 1001, empty sys_info, the object, an empty list of storage keys (torch_legacy.h).
inline std::string legacy_file(const std::string& object_pickle) {
  return std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19\x2e", 15) +
         std::string("\x80\x02M\xe9\x03.", 6) + std::string("\x80\x02}.", 4) + object_pickle +
         std::string("\x80\x02].", 4);
}

// weights_py.py's value(): ((arange(n) * 7 + len(key) * 13) % 101 - 50) / 8, then cast.
inline at::Tensor value(const std::string& key, std::vector<int64_t> shape, at::ScalarType dtype) {
  int64_t n = 1;
  for (auto s : shape) n *= s;
  auto v = (torch::arange(n, torch::kFloat64) * 7 + static_cast<double>(key.size() * 13)).remainder(101)
               .sub(50).div(8).reshape(shape);
  return dtype == at::kBool ? v.gt(0) : v.to(dtype);
}

// weights_py.py's small_module(), with the same names and order: parameters lin.weight,
// lin.bias, block.conv.weight, block.conv.bias, head.weight and the buffer block.running
// (which torch_ema does not track).
struct Block : torch::nn::Module {
  Block() {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(4, 2, 3)));
    running = register_buffer("running", torch::zeros({2}));
  }
  torch::nn::Conv2d conv{nullptr};
  torch::Tensor running;
};
struct Small : torch::nn::Module {
  Small() {
    lin = register_module("lin", torch::nn::Linear(3, 4));
    block = register_module("block", std::make_shared<Block>());
    head = register_module("head", torch::nn::Linear(torch::nn::LinearOptions(4, 1).bias(false)));
  }
  torch::nn::Linear lin{nullptr}, head{nullptr};
  std::shared_ptr<Block> block;
};

}  // namespace sg::weights::testing
