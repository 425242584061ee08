#pragma once
// Child processes: the one wrapper around fork/exec/waitpid. Children start in their own
// process group (so a stage and everything it starts, e.g. mpirun's ranks, can be signalled
// together) and get SIGTERM if the parent dies, so a kill -9 of the orchestrator does not leave
// stages running unsupervised.
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sg {

struct ProcessSpec {
  std::vector<std::string> argv;                             // argv[0] looked up on PATH
  std::string cwd;                                           // empty: inherit
  std::vector<std::pair<std::string, std::string>> env;      // added to the environment
  std::string output_path;  // stdout and stderr appended here; empty: inherit
  int output_fd = -1;       // or: stdout and stderr to this open descriptor (run_capture's pipe)
  bool die_with_parent = true;
};

struct ProcessExit {
  int pid = 0;
  int code = 0;    // exit status, or 128 + signal when killed
  int signal = 0;  // terminating signal, 0 if it exited
};

int spawn(const ProcessSpec& spec);  // returns the pid; IoError if it cannot start
// Wait for any child; nullopt if none are left (or, with block=false, none has ended yet).
std::optional<ProcessExit> wait_any(bool block = true);
// Wait for any child, calling tick() about every poll_ms while none has ended (the local
// executor reacts to a stop signal from there; a blocking waitpid would sleep through it, since
// the stop handlers restart interrupted calls). nullopt once no child is left.
std::optional<ProcessExit> wait_any_polling(const std::function<void()>& tick, int poll_ms = 50);
ProcessExit wait_pid(int pid);
// Send a signal to the child's whole process group.
void signal_group(int pid, int signo);
// Spawn and wait.
ProcessExit run_process(const ProcessSpec& spec);

// Spawn and wait, returning what the child wrote to stdout and stderr, read through a pipe:
// nothing touches the file system, so there is no temporary name to predict, follow or leave
// behind (spec.output_path and output_fd must be unset).
struct CapturedRun {
  ProcessExit exit;
  std::string output;
};
CapturedRun run_capture(ProcessSpec spec);

}  // namespace sg
