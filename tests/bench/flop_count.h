// FLOPs executed, counted from the shapes of the ops LibTorch actually runs (issue #23), and where
// the time of the same run goes. A replacement for FLOP models: a model of "n forward passes per
// iteration" cannot know what the autograd engine runs for the normals' double backward, R1, the
// surface net or the discriminator, and overcounted to a utilisation of 1.42 of the peak.
//
// How: a global at::RecordFunction callback (the dispatcher calls it for every aten op and every
// autograd node, on any thread) keeps a per-thread stack of open records. On exit a record's
// self time (its time minus its children's) is added to its name's totals, so the categories
// below sum to the time spent inside ops without counting anything twice.
//
// FLOPs: 2 per multiply-add of the GEMM and convolution ops (mm, addmm, bmm, baddbmm, addmv, mv,
// dot, convolution, _convolution, convolution_backward), from their input shapes; a record nested
// inside one already counted is not counted again (linear -> addmm, convolution -> _convolution ->
// mkldnn_convolution). Elementwise work (bias adds, sin, the integration) is not counted as FLOPs:
// it is reported as time, since it is bound by memory, not by the multiply units.
#pragma once

#include <ATen/ATen.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace sg::bench {

struct OpTotals {
  int64_t calls = 0;
  double self_s = 0;  // time inside this op's records minus their children's
  double flop = 0;
};

// Where a record's self time is filed.
enum class OpCategory { gemm, conv, sine, elementwise, reduction, copy, alloc, autograd, other };
const char* category_name(OpCategory c);
OpCategory categorize(const std::string& op_name);

struct Profile {
  std::map<std::string, OpTotals> ops;  // by record name ("aten::mm", "MulBackward0", ...)
  double flop = 0;                      // GEMM + convolution FLOPs, every thread
  double wall_s = 0;                    // start to stop
  double in_ops_s = 0;                  // inside outermost records of the starting thread
  double sys_s = 0, user_s = 0;         // process CPU time (getrusage): sys is mostly page faults
  int64_t minor_faults = 0;             // pages the kernel had to map (and zero) for us
  // Self seconds per category (every thread).
  std::map<OpCategory, double> by_category() const;
};

// Counts while alive; one at a time per process. Not reentrant with LibTorch's own profiler.
class OpProfiler {
 public:
  OpProfiler();
  ~OpProfiler();
  OpProfiler(const OpProfiler&) = delete;
  OpProfiler& operator=(const OpProfiler&) = delete;
  Profile stop();  // ends the count (idempotent: later calls return an empty Profile)

 private:
  uint64_t handle_ = 0;
  bool running_ = false;
  double wall0_ = 0, user0_ = 0, sys0_ = 0;
  int64_t faults0_ = 0;
};

// FLOPs of one record from its name and input shapes (0 for ops that are not counted). Exposed for
// the unit check.
double op_flop(const std::string& name, const std::vector<c10::IValue>& inputs);

// The float32 GEMM peak of this process with its current thread count: the best of `reps`
// torch::mm of 24576x256 by 256x256 (the SIREN's hidden layer on one chunk of points), GFLOP/s.
double matmul_peak_gflops(int reps = 20);

// A table of the profile: FLOPs, FLOP/s over `seconds` (the unprofiled time of the same work, or
// the profile's own wall when <= 0), utilisation against `peak_gflops`, the time by category and
// the `top` ops by self time. Lines start with `prefix` so a parent process can grep them.
void print_profile(std::FILE* out, const Profile& p, double seconds, double peak_gflops, const char* prefix,
                   int top = 12);

}  // namespace sg::bench
