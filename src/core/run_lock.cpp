#include "core/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "core/log.h"

namespace sg {

static std::string read_fd(int fd) {
  std::string out;
  char buf[512];
  if (::lseek(fd, 0, SEEK_SET) < 0) return out;
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

static std::string hostname() {
  char buf[256] = {0};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

RunLock::RunLock(const std::string& lock_path) : path_(lock_path) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(lock_path).parent_path(), ec);
  fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw_errno("cannot open the run lock", lock_path);
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    const std::string owner = read_fd(fd_);
    ::close(fd_);
    fd_ = -1;
    if (e == EWOULDBLOCK)
      throw BusyError("run directory is in use by another shadegan process (" +
                      (owner.empty() ? std::string("unknown holder") : owner) + "); lock file '" +
                      lock_path + "'");
    errno = e;
    throw_errno("cannot lock", lock_path);
  }
  stale_owner_ = read_fd(fd_);
  if (!stale_owner_.empty())
    log::warn("taking over the run lock left by a process that is gone ({})", stale_owner_);
  const std::string me = "pid " + std::to_string(::getpid()) + " on " + hostname() + " since " +
                         log::now_iso8601();
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, me.data(), me.size(), 0) < 0)
    throw_errno("cannot write the run lock", lock_path);
  ::fsync(fd_);
}

RunLock::~RunLock() {
  if (fd_ < 0) return;
  // Empty the file before unlocking: an empty lock file means "released cleanly".
  if (::ftruncate(fd_, 0) == 0) ::fsync(fd_);
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
}

}  // namespace sg
