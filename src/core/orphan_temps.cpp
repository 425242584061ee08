#include "core/orphan_temps.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "core/log.h"

namespace fs = std::filesystem;

namespace sg {

bool pid_alive(int pid) {
  if (pid <= 0) return false;
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

static int trailing_pid(const std::string& s, size_t from) {
  if (from >= s.size() || s.size() - from > 9) return -1;
  int pid = 0;
  for (size_t i = from; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    pid = pid * 10 + (s[i] - '0');
  }
  return pid > 0 ? pid : -1;
}

int temp_owner_pid(const std::string& n) {
  if (n.size() < 2 || n[0] != '.') return -1;
  if (n.rfind(kAsidePrefix, 0) == 0) return -1;
  if (n.rfind(".tmp-", 0) == 0) {
    // .tmp-<checkpoint name>-<pid>
    const size_t dash = n.rfind('-');
    return dash > 4 ? trailing_pid(n, dash + 1) : -1;
  }
  // .<name>.tmp-<pid>
  const size_t t = n.rfind(".tmp-");
  return t != std::string::npos && t > 0 ? trailing_pid(n, t + 5) : -1;
}

std::vector<std::string> collect_orphan_temps(const std::string& dir) {
  std::vector<std::string> removed;
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(dir, ec))) return removed;
  std::vector<fs::path> orphans;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const int pid = temp_owner_pid(it->path().filename().string());
    if (pid < 0 || it->is_symlink()) continue;
    if (it->is_directory()) it.disable_recursion_pending();
    if (pid == ::getpid() || pid_alive(pid)) continue;
    orphans.push_back(it->path());
  }
  if (ec) log::warn("cannot look for left-over temporaries in {}: {}", dir, ec.message());
  for (const auto& p : orphans) {
    std::error_code e;
    uintmax_t bytes = 0;
    if (fs::is_directory(fs::symlink_status(p, e))) {
      for (auto it = fs::recursive_directory_iterator(p, e); !e && it != fs::recursive_directory_iterator(); it.increment(e))
        if (it->is_regular_file(e)) bytes += it->file_size(e);
    } else {
      bytes = fs::file_size(p, e);
    }
    e.clear();
    fs::remove_all(p, e);
    if (e) {
      log::warn("cannot remove the left-over temporary {}: {}", p.string(), e.message());
      continue;
    }
    log::info("removed {} ({} bytes), left by process {} which is gone", p.string(), bytes,
              temp_owner_pid(p.filename().string()));
    removed.push_back(p.string());
  }
  return removed;
}

}  // namespace sg
