#pragma once
// An exclusive lock on a run directory, so two `shadegan run`s never plan and write the same
// stages at once. Held with flock() on <dir>/state/run.lock for the life of the process: the
// kernel drops it when the holder dies, even by kill -9, so a lock left by a dead process is
// detected (the flock succeeds on a file that still names an owner) and taken over. The file
// names the holder (pid, host, start time) for the message a second run prints.
#include <string>

namespace sg {

class RunLock {
 public:
  // Throws BusyError naming the holder when another live process has it.
  explicit RunLock(const std::string& lock_path);
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
