#include "flop_count.h"

#include <ATen/record_function.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace sg::bench {

namespace {

double clock_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

bool starts_with(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

// ---- FLOPs from shapes ----

std::vector<int64_t> sizes_of(const c10::IValue& v) {
  if (!v.isTensor()) return {};
  return v.toTensor().sizes().vec();
}

double prod(const std::vector<int64_t>& v, size_t from = 0) {
  double p = 1;
  for (size_t i = from; i < v.size(); ++i) p *= double(v[i]);
  return p;
}

// (m, k) x (k, n): m k n multiply-adds.
double mm_macs(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  if (a.size() != 2 || b.size() != 2) return 0;
  return double(a[0]) * double(a[1]) * double(b[1]);
}

double bmm_macs(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  if (a.size() != 3 || b.size() != 3) return 0;
  return double(a[0]) * double(a[1]) * double(a[2]) * double(b[2]);
}

std::vector<int64_t> ints_of(const c10::IValue& v) { return v.isIntList() ? v.toIntVector() : std::vector<int64_t>{}; }

// Multiply-adds of the forward convolution of `input` (N, C, spatial...) with `weight`: every
// output element of a plain convolution takes weight.numel() / O of them, i.e.
// N * prod(out spatial) * weight.numel(); a transposed one scatters every input element through
// weight.numel() / C_in of them: N * prod(in spatial) * weight.numel(). Groups are in numel already.
// `spatial` is the output's sizes for a plain convolution, the input's for a transposed one.
double conv_macs(const std::vector<int64_t>& input, const std::vector<int64_t>& weight,
                 const std::vector<int64_t>& spatial) {
  if (input.size() < 3 || weight.size() != input.size()) return 0;
  return double(input[0]) * prod(spatial) * prod(weight);
}

// Output spatial sizes of a plain convolution.
std::vector<int64_t> conv_out(const std::vector<int64_t>& input, const std::vector<int64_t>& weight,
                              const std::vector<int64_t>& stride, const std::vector<int64_t>& padding,
                              const std::vector<int64_t>& dilation) {
  const size_t d = input.size() - 2;
  auto at = [&](const std::vector<int64_t>& v, size_t i, int64_t def) {
    return v.empty() ? def : v.size() == 1 ? v[0] : v[i];
  };
  std::vector<int64_t> out(d);
  for (size_t i = 0; i < d; ++i) {
    const int64_t k = weight[2 + i];
    out[i] = (input[2 + i] + 2 * at(padding, i, 0) - at(dilation, i, 1) * (k - 1) - 1) / at(stride, i, 1) + 1;
  }
  return out;
}

std::vector<int64_t> tail(const std::vector<int64_t>& v) { return std::vector<int64_t>(v.begin() + 2, v.end()); }

// ---- the recorder ----

struct Frame {
  double start = 0, child = 0;
  double flop = 0;
  bool counted = false;  // this record or an ancestor counts FLOPs: its descendants do not
  std::string name;
};

struct State {
  std::mutex mu;
  std::map<std::string, OpTotals> ops;  // records of the starting thread
  double flop = 0, in_ops = 0, other_threads = 0;
  std::thread::id main;
};
State* g_state = nullptr;  // the running profiler's; set and cleared by OpProfiler

thread_local std::vector<Frame> t_stack;

std::unique_ptr<at::ObserverContext> on_enter(const at::RecordFunction& fn) {
  Frame f;
  f.name = fn.name();
  const bool inherited = !t_stack.empty() && t_stack.back().counted;
  if (!inherited) {
    const auto in = fn.inputs();
    f.flop = op_flop(f.name, std::vector<c10::IValue>(in.begin(), in.end()));
    f.counted = f.flop > 0;
  } else {
    f.counted = true;
  }
  f.start = clock_s();
  t_stack.push_back(std::move(f));
  return nullptr;
}

void on_exit(const at::RecordFunction&, at::ObserverContext*) {
  const double end = clock_s();
  if (t_stack.empty()) return;  // opened before the profiler started
  Frame f = std::move(t_stack.back());
  t_stack.pop_back();
  const double total = end - f.start;
  if (!t_stack.empty()) t_stack.back().child += total;
  State* s = g_state;
  if (!s) return;
  std::lock_guard<std::mutex> lock(s->mu);
  s->flop += f.flop;
  if (std::this_thread::get_id() != s->main) {
    if (t_stack.empty()) s->other_threads += total;
    return;
  }
  OpTotals& o = s->ops[f.name];
  o.calls += 1;
  o.self_s += total - f.child;
  o.flop += f.flop;
  if (t_stack.empty()) s->in_ops += total;
}

void rusage_now(double& user, double& sys, int64_t& faults) {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  user = double(u.ru_utime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec);
  sys = double(u.ru_stime.tv_sec) + 1e-6 * double(u.ru_stime.tv_usec);
  faults = u.ru_minflt;
}

}  // namespace

double op_flop(const std::string& name, const std::vector<c10::IValue>& in) {
  auto s = [&](size_t i) { return i < in.size() ? sizes_of(in[i]) : std::vector<int64_t>{}; };
  double macs = 0;
  if (name == "aten::mm") {
    macs = mm_macs(s(0), s(1));
  } else if (name == "aten::addmm") {
    macs = mm_macs(s(1), s(2));
  } else if (name == "aten::bmm") {
    macs = bmm_macs(s(0), s(1));
  } else if (name == "aten::baddbmm") {
    macs = bmm_macs(s(1), s(2));
  } else if (name == "aten::mv") {
    macs = prod(s(0));
  } else if (name == "aten::addmv") {
    macs = prod(s(1));
  } else if (name == "aten::dot") {
    macs = prod(s(0));
  } else if (name == "aten::convolution" || name == "aten::_convolution") {
    // (input, weight, bias, stride, padding, dilation, transposed, output_padding, groups, ...)
    if (in.size() < 9) return 0;
    const auto x = s(0), w = s(1);
    const bool transposed = in[6].toBool();
    if (x.size() < 3) return 0;
    macs = transposed ? conv_macs(x, w, tail(x))
                      : conv_macs(x, w, conv_out(x, w, ints_of(in[3]), ints_of(in[4]), ints_of(in[5])));
  } else if (name == "aten::convolution_backward") {
    // (grad_output, input, weight, bias_sizes, stride, padding, dilation, transposed,
    //  output_padding, groups, output_mask): the input and the weight gradient each take the
    // forward's multiply-adds (a transposed convolution / a correlation of the same sizes); the
    // bias gradient is a reduction.
    if (in.size() < 11) return 0;
    const auto go = s(0), x = s(1), w = s(2);
    const bool transposed = in[7].toBool();
    if (x.size() < 3 || go.size() != x.size()) return 0;
    const double fwd = conv_macs(x, w, transposed ? tail(x) : tail(go));
    const auto mask = in[10].toBoolList();
    macs = fwd * (double(mask.get(0)) + double(mask.get(1)));
  }
  return 2 * macs;
}

const char* category_name(OpCategory c) {
  switch (c) {
    case OpCategory::gemm: return "GEMM (mm, addmm, bmm)";
    case OpCategory::conv: return "convolution (oneDNN)";
    case OpCategory::sine: return "sin, cos";
    case OpCategory::elementwise: return "other elementwise and misc aten";
    case OpCategory::reduction: return "reductions, sort, norms";
    case OpCategory::copy: return "copies, cat, gather, views";
    case OpCategory::alloc: return "empty, zeros, fill";
    case OpCategory::autograd: return "autograd nodes (own time)";
    case OpCategory::other: return "other";
  }
  return "?";
}

OpCategory categorize(const std::string& name) {
  if (!starts_with(name, "aten::")) return OpCategory::autograd;  // Backward nodes, engine records
  const std::string op = name.substr(6);
  auto in = [&](std::initializer_list<const char*> names) {
    return std::any_of(names.begin(), names.end(), [&](const char* n) { return op == n; });
  };
  if (in({"mm", "addmm", "bmm", "baddbmm", "addmv", "mv", "dot", "matmul", "linear", "addbmm", "einsum"}))
    return OpCategory::gemm;
  if (op.find("conv") != std::string::npos) return OpCategory::conv;
  if (in({"sin", "cos", "sin_", "cos_"})) return OpCategory::sine;
  if (in({"sum", "mean", "norm", "linalg_vector_norm", "cumprod", "cumsum", "prod", "topk", "sort", "amax",
          "amin", "max", "min", "var", "std", "native_group_norm", "native_group_norm_backward",
          "searchsorted", "argmax", "sum_to_size", "_cumprod", "cumprod_backward"}))
    return OpCategory::reduction;
  if (in({"copy_", "cat", "_cat", "stack", "clone", "contiguous", "_to_copy", "to", "gather", "scatter_add",
          "scatter", "index", "index_select", "repeat", "flip", "slice", "select", "reshape", "view",
          "permute", "transpose", "t", "unsqueeze", "squeeze", "expand", "as_strided", "detach", "alias",
          "narrow", "_reshape_alias", "split", "chunk", "unbind", "expand_as", "view_as", "slice_backward",
          "select_backward", "_unsafe_view", "unsafe_split", "lift_fresh", "resolve_conj", "resolve_neg"}))
    return OpCategory::copy;
  if (in({"empty", "empty_strided", "empty_like", "zeros", "zeros_like", "ones", "ones_like", "fill_", "zero_",
          "resize_", "full", "full_like", "new_empty", "new_zeros", "new_empty_strided", "scalar_tensor",
          "arange", "linspace"}))
    return OpCategory::alloc;
  return OpCategory::elementwise;
}

std::map<OpCategory, double> Profile::by_category() const {
  std::map<OpCategory, double> m;
  for (const auto& [name, t] : ops) m[categorize(name)] += t.self_s;
  return m;
}

OpProfiler::OpProfiler() {
  if (g_state) throw std::logic_error("OpProfiler: one at a time");
  g_state = new State;
  g_state->main = std::this_thread::get_id();
  t_stack.clear();
  rusage_now(user0_, sys0_, faults0_);
  wall0_ = clock_s();
  handle_ = at::addGlobalCallback(
      at::RecordFunctionCallback(&on_enter, &on_exit)
          .needsInputs(true)
          .scopes({at::RecordScope::FUNCTION, at::RecordScope::BACKWARD_FUNCTION, at::RecordScope::USER_SCOPE}));
  running_ = true;
}

OpProfiler::~OpProfiler() { stop(); }

Profile OpProfiler::stop() {
  Profile p;
  if (!running_) return p;
  at::removeCallback(handle_);
  running_ = false;
  p.wall_s = clock_s() - wall0_;
  double user = 0, sys = 0;
  int64_t faults = 0;
  rusage_now(user, sys, faults);
  p.user_s = user - user0_;
  p.sys_s = sys - sys0_;
  p.minor_faults = faults - faults0_;
  {
    std::lock_guard<std::mutex> lock(g_state->mu);
    p.ops = std::move(g_state->ops);
    p.flop = g_state->flop;
    p.in_ops_s = g_state->in_ops;
  }
  // Records still open on this thread (none when stop() is called outside any op).
  t_stack.clear();
  delete g_state;
  g_state = nullptr;
  return p;
}

double matmul_peak_gflops(int reps) {
  at::Tensor a = at::randn({24576, 256}), b = at::randn({256, 256});
  at::mm(a, b);
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    const double t0 = clock_s();
    at::mm(a, b);
    best = std::min(best, clock_s() - t0);
  }
  return 2.0 * 24576 * 256 * 256 / best / 1e9;
}

void print_profile(std::FILE* out, const Profile& p, double seconds, double peak_gflops, const char* prefix,
                   int top) {
  const double secs = seconds > 0 ? seconds : p.wall_s;
  const double gflops = p.flop / secs / 1e9;
  double gemm_flop = 0, conv_flop = 0;
  for (const auto& [name, t] : p.ops) (categorize(name) == OpCategory::conv ? conv_flop : gemm_flop) += t.flop;
  std::fprintf(out, "%s FLOP %.4g (GEMM %.4g, conv %.4g) in %.3f s = %.2f GFLOP/s; peak %.2f GFLOP/s; util %.3f\n",
               prefix, p.flop, gemm_flop, conv_flop, secs, gflops, peak_gflops, gflops / peak_gflops);
  const auto cat = p.by_category();
  std::fprintf(out, "%s profiled wall %.3f s (user %.3f, sys %.3f, %lld minor faults = %.2f GiB of fresh pages)\n",
               prefix, p.wall_s, p.user_s, p.sys_s, (long long)p.minor_faults,
               double(p.minor_faults) * 4096.0 / (1 << 30));
  std::fprintf(out, "%s | category | self s | share of profiled wall |\n", prefix);
  for (const auto& [c, s] : cat)
    std::fprintf(out, "%s | %s | %.3f | %.1f%% |\n", prefix, category_name(c), s, 100 * s / p.wall_s);
  const double outside = p.wall_s - p.in_ops_s;
  std::fprintf(out, "%s | outside any op (engine scheduling, our C++ between ops) | %.3f | %.1f%% |\n", prefix,
               outside, 100 * outside / p.wall_s);
  // GEMM time against the peak: how well the GEMMs themselves run.
  double gemm_s = cat.count(OpCategory::gemm) ? cat.at(OpCategory::gemm) : 0;
  if (gemm_s > 0)
    std::fprintf(out, "%s GEMM alone: %.2f GFLOP/s = %.3f of peak\n", prefix, gemm_flop / gemm_s / 1e9,
                 gemm_flop / gemm_s / 1e9 / peak_gflops);
  std::vector<std::pair<std::string, OpTotals>> v(p.ops.begin(), p.ops.end());
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second.self_s > b.second.self_s; });
  std::fprintf(out, "%s top ops by self time:\n", prefix);
  for (int i = 0; i < top && i < int(v.size()); ++i)
    std::fprintf(out, "%s   %-40s %7lld calls %8.3f s %6.1f%% %10.4g FLOP\n", prefix, v[i].first.c_str(),
                 (long long)v[i].second.calls, v[i].second.self_s, 100 * v[i].second.self_s / p.wall_s,
                 v[i].second.flop);
}

}  // namespace sg::bench
