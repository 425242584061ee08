#include "core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace fs = std::filesystem;

namespace sg {

void create_dirs(const std::string& path) {
  if (path.empty()) return;
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) throw IoError("cannot create directory '" + path + "': " + ec.message());
}

void fsync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_errno("cannot open for fsync", path);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw_errno("cannot fsync", path);
}

static std::string parent_of(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

std::string temp_path_for(const std::string& path) {
  const fs::path p(path);
  return (p.parent_path() / ("." + p.filename().string() + ".tmp-" + std::to_string(::getpid())))
      .string();
}

void commit_file(const std::string& tmp, const std::string& path) {
  fsync_path(tmp);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw_errno("cannot rename into place", path);
  fsync_path(parent_of(path));
}

void commit_dir(const std::string& tmp_dir, const std::string& dir) {
  fsync_path(tmp_dir);
  if (std::rename(tmp_dir.c_str(), dir.c_str()) != 0) throw_errno("cannot rename into place", dir);
  fsync_path(parent_of(dir));
}

namespace {

// A fault-injection point for crash tests (tests/train/kill_test.sh): with
// SG_FAULT_KILL_AFTER_BYTES=N in the environment, the process kills itself with SIGKILL once N
// bytes in all have gone through write_file_atomic, in the middle of the write that crosses N,
// exactly where a kill -9 or a power cut would leave a partial temporary. Unset: no effect.
struct FaultPoint {
  int64_t limit = -1;
  int64_t written = 0;
  FaultPoint() {
    if (const char* v = std::getenv("SG_FAULT_KILL_AFTER_BYTES")) limit = std::strtoll(v, nullptr, 10);
  }
  // How much of `want` bytes may be written before the kill (all of them when unarmed).
  size_t allowance(size_t want) const {
    if (limit < 0) return want;
    return static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(want), std::max<int64_t>(0, limit - written)));
  }
};

FaultPoint& fault_point() {
  static FaultPoint f;
  return f;
}

}  // namespace

void write_file_atomic(const std::string& path, std::string_view content) {
  create_dirs(parent_of(path));
  const std::string tmp = temp_path_for(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw_errno("cannot write", tmp);
  const char* p = content.data();
  size_t left = content.size();
  FaultPoint& fault = fault_point();
  while (left > 0) {
    const size_t allowed = fault.allowance(left);
    if (allowed == 0) ::raise(SIGKILL);  // the fault point: dies mid-write, the temporary partial
    const ssize_t n = ::write(fd, p, allowed);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      errno = e;
      throw_errno("cannot write", path);  // e.g. "No space left on device"
    }
    p += n;
    left -= static_cast<size_t>(n);
    fault.written += n;
  }
  if (::fsync(fd) != 0) {
    const int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    errno = e;
    throw_errno("cannot fsync", path);
  }
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    errno = e;
    throw_errno("cannot rename into place", path);
  }
  fsync_path(parent_of(path));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_errno("cannot read", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw_errno("cannot read", path);
  return ss.str();
}

}  // namespace sg
