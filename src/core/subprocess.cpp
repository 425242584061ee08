#include "core/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace sg {

int spawn(const ProcessSpec& spec) {
  if (spec.argv.empty()) throw IoError("cannot start a process with an empty command line");
  if (!spec.output_path.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(spec.output_path).parent_path(), ec);
  }
  // Prepare everything that allocates before fork: the child may only call async-signal-safe
  // functions when the parent has threads.
  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : spec.env) env_strings.push_back(k + "=" + v);
  if (!spec.output_path.empty() && spec.output_fd >= 0)
    throw IoError("cannot send " + spec.argv[0] + "'s output both to a file and to a descriptor");
  int out_fd = -1;
  if (!spec.output_path.empty()) {
    out_fd = ::open(spec.output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out_fd < 0) throw_errno("cannot open log", spec.output_path);
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    if (out_fd >= 0) ::close(out_fd);
    throw_errno("cannot fork for", spec.argv[0]);
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    if (spec.die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(128 + SIGTERM);  // parent died before prctl
    }
    // Restore default dispositions the parent may have changed.
    for (int s : {SIGUSR1, SIGUSR2, SIGTERM, SIGINT, SIGPIPE}) ::signal(s, SIG_DFL);
    if (!spec.cwd.empty() && ::chdir(spec.cwd.c_str()) != 0) ::_exit(127);
    if (out_fd >= 0 || spec.output_fd >= 0) {
      const int fd = out_fd >= 0 ? out_fd : spec.output_fd;
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
    for (auto& e : env_strings) ::putenv(const_cast<char*>(e.c_str()));
    ::execvp(argv[0], argv.data());
    const char* msg = "shadegan: cannot execute ";
    (void)!::write(STDERR_FILENO, msg, std::strlen(msg));
    (void)!::write(STDERR_FILENO, argv[0], std::strlen(argv[0]));
    (void)!::write(STDERR_FILENO, "\n", 1);
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from the parent, so the group exists before we signal it
  if (out_fd >= 0) ::close(out_fd);
  return pid;
}

static ProcessExit decode(pid_t pid, int status) {
  ProcessExit e;
  e.pid = pid;
  if (WIFEXITED(status)) {
    e.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    e.signal = WTERMSIG(status);
    e.code = 128 + e.signal;
  }
  return e;
}

std::optional<ProcessExit> wait_any(bool block) {
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, block ? 0 : WNOHANG);
    if (pid > 0) return decode(pid, status);
    if (pid == 0) return std::nullopt;
    if (errno == EINTR) continue;
    return std::nullopt;  // ECHILD
  }
}

std::optional<ProcessExit> wait_any_polling(const std::function<void()>& tick, int poll_ms) {
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) return decode(pid, status);
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0) return std::nullopt;  // ECHILD
    tick();
    ::usleep(static_cast<useconds_t>(poll_ms) * 1000);
  }
}

ProcessExit wait_pid(int pid) {
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, 0);
    if (r == pid) return decode(r, status);
    if (r < 0 && errno != EINTR) throw_errno("cannot wait for process", std::to_string(pid));
  }
}

void signal_group(int pid, int signo) { ::kill(-pid, signo); }

ProcessExit run_process(const ProcessSpec& spec) { return wait_pid(spawn(spec)); }

CapturedRun run_capture(ProcessSpec spec) {
  if (!spec.output_path.empty() || spec.output_fd >= 0)
    throw IoError("run_capture: " + (spec.argv.empty() ? std::string("?") : spec.argv[0]) +
                  " already has an output destination");
  int fds[2];
  // Close-on-exec on both ends: only the child's dup2'd stdout/stderr survive its exec, so the
  // read below ends when the child (and whatever it started) closes them.
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("cannot create a pipe for", spec.argv.empty() ? "?" : spec.argv[0]);
  spec.output_fd = fds[1];
  int pid = 0;
  try {
    pid = spawn(spec);
  } catch (...) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw;
  }
  ::close(fds[1]);
  CapturedRun r;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      r.output.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(fds[0]);
  r.exit = wait_pid(pid);
  return r;
}

}  // namespace sg
