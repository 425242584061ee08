// shadegan signal-shield COMMAND...: run COMMAND (exec, same pid) with SIGTERM and SIGINT
// blocked. The Slurm job script starts its launcher through it (slurm/job.sh.tmpl).
//
// Why: when Slurm preempts or cancels a job it sends SIGTERM to every process of the job, and
// mpirun answers SIGTERM by tearing the job down at once, so the ranks lose their MPI runtime
// in the middle of agreeing to stop and checkpointing (measured: the attempt ended as failed,
// nothing saved since the last checkpoint). Blocked, the signal stays pending in mpirun, which
// never acts on it, while each rank gets its own SIGTERM from Slurm: ranks unblock the stop
// signals when they install their handlers (core/signals.cpp), stop after the same iteration,
// save, and exit 75, and mpirun then ends with them. The blocked mask is inherited across exec
// and fork, which is the point; nothing else about the command changes.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "app/command.h"
#include "core/error.h"

namespace {

int shield_and_exec(const std::vector<std::string>& args) {
  if (args.empty()) throw sg::ConfigError("signal-shield: no command given");
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0)
    throw sg::IoError(std::string("signal-shield: cannot block SIGTERM and SIGINT: ") + std::strerror(errno));
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  throw sg::IoError("signal-shield: cannot execute '" + args[0] + "': " + std::strerror(errno));
}

const bool registered = sg::app::register_command(
    {"signal-shield", "Run a command with SIGTERM and SIGINT blocked (Slurm job scripts' launcher)",
     [](CLI::App& sub) -> sg::app::Runner {
       sub.group("");  // hidden from `shadegan --help`: batch scripts use it
       // Everything after `signal-shield` is the command, its options included, untouched.
       sub.prefix_command();
       CLI::App* self = &sub;
       return [self] { return shield_and_exec(self->remaining()); };
     }});

}  // namespace
