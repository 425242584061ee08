#pragma once
// The one wrapper around MPI: every MPI call made by the project goes through here, checks its
// return code and throws MpiError. The same binary runs with and without mpirun (singleton
// init gives size 1).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace sg::mpi {

struct MpiError : Error {
  explicit MpiError(const std::string& what) : Error(ExitCode::failed, what) {}
};

// Initialise MPI once per process (idempotent; finalised at exit). Returns rank and size.
void init();
bool initialized();
int rank();
int size();
std::string library_version();  // e.g. "Open MPI v4.1.4, ..."
std::string processor_name();

void barrier();
// Sum / max / logical-or across ranks (in place).
void allreduce_sum(float* data, int64_t count);
void allreduce_sum(double* data, int64_t count);
void allreduce_sum(int64_t* data, int64_t count);
int64_t allreduce_max(int64_t value);
bool allreduce_or(bool value);
// The same or, for a vote between steps of milliseconds or more: a rank that arrives first
// sleeps (from 10 us up to 1 ms at a time) until the others have voted, instead of polling at
// 100 % of a core as Open MPI's blocking collectives do, which took the core from the ranks
// still working (and their writer threads) on a shared node.
bool vote_or(bool value);
// The same vote, cast now and counted later, so that a rank can work while the others vote:
// start() is the collective (every rank starts its votes in the same order) and sends this
// rank's vote on its way: the others can count it before this rank's next MPI call (tested on
// 2 to 4 ranks). wait() sleeps as vote_or does until every rank's has arrived and returns their
// or.
class PendingVote {
 public:
  static PendingVote start(bool value);
  PendingVote();
  PendingVote(PendingVote&&) noexcept;
  PendingVote& operator=(PendingVote&&) noexcept;
  ~PendingVote();  // waits: a vote in flight must not outlive its buffer
  bool active() const { return state_ != nullptr; }
  bool wait();

 private:
  struct State;
  std::unique_ptr<State> state_;  // the request and its buffer, at one address while in flight
};
void broadcast(void* data, int64_t bytes, int root = 0);
void broadcast(std::string& s, int root = 0);
// Gather variable-length byte strings to root (others get an empty vector).
std::vector<std::string> gather_strings(const std::string& mine, int root = 0);
// How many ranks (this one included) passed the same `key`: a collective. Used with
// "<host> <affinity list>" to count the ranks that share this rank's CPUs.
int ranks_with_key(const std::string& key);
// Abort every rank (used when one rank fails and the others would wait forever).
[[noreturn]] void abort(int code);
// The exit of a command that failed on this rank, with its error already printed. Under mpirun
// with other ranks, they may be blocked in a collective waiting for this one, and returning from
// main would hang the whole job (MPI_Finalize at exit waits for ranks that wait for us), so the
// job is aborted with `code` instead; alone (or before MPI started, or after it ended), and for
// 75 (a stop on a signal every rank received), it returns `code`.
int fail_job(int code);

}  // namespace sg::mpi
