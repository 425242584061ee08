#include "mpi/mpi.h"

// The C API only: OpenMPI's mpi.h otherwise drags in its deprecated C++ bindings, which would
// need libmpi_cxx in every program that links this library (the test executables do not).
#define OMPI_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace sg::mpi {
namespace {

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw MpiError(std::string("MPI ") + what + " failed: " + std::string(msg, len));
}

void finalize_at_exit() {
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  if (init && !fin) MPI_Finalize();
}

// Bounded chunks: MPI counts are int.
constexpr int64_t kChunk = int64_t(1) << 30;

}  // namespace

void init() {
  int already = 0;
  check(MPI_Initialized(&already), "Initialized");
  if (already) return;
  int provided = 0;
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "Init_thread");
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  std::atexit(finalize_at_exit);
}

bool initialized() {
  int init = 0;
  MPI_Initialized(&init);
  return init != 0;
}

int rank() {
  if (!initialized()) return 0;
  int r = 0;
  check(MPI_Comm_rank(MPI_COMM_WORLD, &r), "Comm_rank");
  return r;
}

int size() {
  if (!initialized()) return 1;
  int s = 1;
  check(MPI_Comm_size(MPI_COMM_WORLD, &s), "Comm_size");
  return s;
}

std::string library_version() {
  char buf[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  check(MPI_Get_library_version(buf, &len), "Get_library_version");
  std::string s(buf, len);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s;
}

std::string processor_name() {
  char buf[MPI_MAX_PROCESSOR_NAME];
  int len = 0;
  check(MPI_Get_processor_name(buf, &len), "Get_processor_name");
  return std::string(buf, len);
}

void barrier() {
  if (size() > 1) check(MPI_Barrier(MPI_COMM_WORLD), "Barrier");
}

template <class T>
static void allreduce_chunks(T* data, int64_t count, MPI_Datatype type) {
  if (size() == 1) return;
  for (int64_t off = 0; off < count; off += kChunk) {
    const int n = static_cast<int>(std::min(kChunk, count - off));
    check(MPI_Allreduce(MPI_IN_PLACE, data + off, n, type, MPI_SUM, MPI_COMM_WORLD), "Allreduce");
  }
}

void allreduce_sum(float* data, int64_t count) { allreduce_chunks(data, count, MPI_FLOAT); }
void allreduce_sum(double* data, int64_t count) { allreduce_chunks(data, count, MPI_DOUBLE); }
void allreduce_sum(int64_t* data, int64_t count) { allreduce_chunks(data, count, MPI_INT64_T); }

int64_t allreduce_max(int64_t value) {
  if (size() == 1) return value;
  check(MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD), "Allreduce");
  return value;
}

bool allreduce_or(bool value) {
  if (size() == 1) return value;
  int v = value ? 1 : 0;
  check(MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD), "Allreduce");
  return v != 0;
}

bool vote_or(bool value) { return PendingVote::start(value).wait(); }

struct PendingVote::State {
  int value = 0;
  MPI_Request req = MPI_REQUEST_NULL;  // null with one rank: value is the answer
};

PendingVote::PendingVote() = default;
PendingVote::PendingVote(PendingVote&&) noexcept = default;
PendingVote& PendingVote::operator=(PendingVote&& o) noexcept {
  if (this != &o) {
    if (state_) {
      try {
        (void)wait();
      } catch (...) {  // (an MPI failure here is reported by the next call)
      }
    }
    state_ = std::move(o.state_);
  }
  return *this;
}
PendingVote::~PendingVote() {
  try {
    if (state_) (void)wait();
  } catch (...) {  // a destructor does not throw; the next MPI call reports the failure
  }
}

PendingVote PendingVote::start(bool value) {
  PendingVote v;
  v.state_ = std::make_unique<State>();
  v.state_->value = value ? 1 : 0;
  if (size() > 1)
    check(MPI_Iallreduce(MPI_IN_PLACE, &v.state_->value, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD, &v.state_->req),
          "Iallreduce");
  // One test now, so the vote leaves: Open MPI sends a non-blocking collective's messages only
  // from within MPI calls, and the caster's next one is a whole item (a shard) later. Without
  // it the other ranks' counting waited for that call, which held them in lockstep again
  // (2 ranks, 6,000 JPEGs: 14-103 ms of waiting per run, against 0-18 ms with it).
  if (v.state_->req != MPI_REQUEST_NULL) {
    int done = 0;
    check(MPI_Test(&v.state_->req, &done, MPI_STATUS_IGNORE), "Test");
  }
  return v;
}

bool PendingVote::wait() {
  if (!state_) throw MpiError("PendingVote::wait without a vote (a bug)");
  std::unique_ptr<State> s = std::move(state_);
  auto pause = std::chrono::microseconds(10);
  while (s->req != MPI_REQUEST_NULL) {
    int done = 0;
    check(MPI_Test(&s->req, &done, MPI_STATUS_IGNORE), "Test");  // (sets req to null when done)
    if (done) break;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(1000));
  }
  return s->value != 0;
}

void broadcast(void* data, int64_t bytes, int root) {
  if (size() == 1) return;
  char* p = static_cast<char*>(data);
  for (int64_t off = 0; off < bytes; off += kChunk) {
    const int n = static_cast<int>(std::min(kChunk, bytes - off));
    check(MPI_Bcast(p + off, n, MPI_BYTE, root, MPI_COMM_WORLD), "Bcast");
  }
}

void broadcast(std::string& s, int root) {
  if (size() == 1) return;
  int64_t n = static_cast<int64_t>(s.size());
  broadcast(&n, sizeof n, root);
  s.resize(static_cast<size_t>(n));
  broadcast(s.data(), n, root);
}

int ranks_with_key(const std::string& key) {
  if (size() == 1) return 1;
  // Rank 0 counts each key and sends every rank its count, as one line of numbers.
  const std::vector<std::string> keys = gather_strings(key, 0);
  std::string counts;
  if (rank() == 0)
    for (const auto& k : keys) counts += std::to_string(std::count(keys.begin(), keys.end(), k)) + " ";
  broadcast(counts, 0);
  size_t at = 0;
  for (int r = 0; r < rank(); ++r) at = counts.find(' ', at) + 1;
  return std::max(1, std::atoi(counts.c_str() + at));
}

std::vector<std::string> gather_strings(const std::string& mine, int root) {
  const int n = size();
  if (n == 1) return {mine};
  int len = static_cast<int>(mine.size());
  std::vector<int> lens(rank() == root ? n : 0);
  check(MPI_Gather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, root, MPI_COMM_WORLD), "Gather");
  std::vector<int> displs;
  std::string all;
  if (rank() == root) {
    displs.resize(n);
    int total = 0;
    for (int i = 0; i < n; ++i) {
      displs[i] = total;
      total += lens[i];
    }
    all.resize(static_cast<size_t>(total));
  }
  check(MPI_Gatherv(mine.data(), len, MPI_BYTE, all.data(), lens.data(), displs.data(), MPI_BYTE,
                    root, MPI_COMM_WORLD),
        "Gatherv");
  std::vector<std::string> out;
  if (rank() == root)
    for (int i = 0; i < n; ++i) out.push_back(all.substr(displs[i], lens[i]));
  return out;
}

int fail_job(int code) {
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  // 75 (stopped on a signal, work saved) is every rank's answer to a signal they all received
  // (mpirun forwards it, Slurm signals every process): no rank is left waiting, and aborting
  // would turn a clean stop into a killed job.
  if (!init || fin || size() <= 1 || code == to_int(ExitCode::preempted)) return code;
  std::fflush(stdout);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

void abort(int code) {
  if (initialized()) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

}  // namespace sg::mpi
