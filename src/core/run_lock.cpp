#include "core/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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

// "pid N on HOST since T" -> HOST ("" when the text is not ours).
static std::string owner_host(const std::string& owner) {
  const auto on = owner.find(" on ");
  if (owner.rfind("pid ", 0) != 0 || on == std::string::npos) return "";
  const auto since = owner.find(" since ", on + 4);
  return owner.substr(on + 4, since == std::string::npos ? std::string::npos : since - on - 4);
}

RunLock::RunLock(const std::string& lock_path, bool break_lock) : path_(lock_path) {
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
    if (e == ENOSYS || e == EOPNOTSUPP || e == ENOLCK || e == EINVAL)
      throw IoError("cannot lock the run directory: the file system holding '" + lock_path +
                      "' does not support flock (" + std::strerror(e) +
                      "). Mount it with flock support (Lustre: -o flock; NFS: a lock manager, not "
                      "-o nolock), or keep run directories on a file system that has it (README.md, "
                      "\"Run directories on cluster file systems\").");
    errno = e;
    throw_errno("cannot lock", lock_path);
  }
  stale_owner_ = read_fd(fd_);
  const std::string host = owner_host(stale_owner_);
  if (!stale_owner_.empty() && !host.empty() && host != hostname() && !break_lock) {
    ::close(fd_);
    fd_ = -1;
    throw BusyError("run directory was locked by " + stale_owner_ + " and not released; from " + hostname() +
                    " it cannot be told whether that process is still running (file locks may be local to "
                    "each node on a cluster file system). If it is gone, rerun with --break-lock; lock file '" +
                    lock_path + "'");
  }
  if (!stale_owner_.empty())
    log::warn("taking over the run lock left by {} ({})", host.empty() || host == hostname() ? "a process that is gone"
                                                                                            : "another host (--break-lock)",
              stale_owner_);
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
