#pragma once
// An exclusive lock on a run directory, so two `shadegan run`s never plan and write the same
// stages at once. Held with flock() on <dir>/state/run.lock for the life of the process: the
// kernel drops it when the holder dies, even by kill -9, so a lock left by a dead process is
// detected (the flock succeeds on a file that still names an owner). The file names the holder
// (pid, host, start time) for the message a second run prints.
//
// Whether a successful flock proves the holder gone depends on the file system (README.md,
// "Run directories on cluster file systems"): on one host it always does, but NFS, Lustre,
// BeeGFS and GPFS may be mounted with locks local to each node, where another node's live holder
// does not block us. So a left-over owner on THIS host is taken over with a warning, while one
// naming ANOTHER host is refused (BusyError, exit 3) unless the caller says it is gone
// (--break-lock). A file system without flock at all gets an IoError that says so and what to
// do, instead of errno's bare text.
#include <string>

namespace sg {

class RunLock {
 public:
  // Throws BusyError naming the holder when another live process has it, or when the lock was
  // left by another host and `break_lock` is false.
  explicit RunLock(const std::string& lock_path, bool break_lock = false);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  // Non-empty when the previous holder died without releasing: its description.
  const std::string& took_over_from() const { return stale_owner_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::string stale_owner_;
};

}  // namespace sg
