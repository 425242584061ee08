#pragma once
// The process exit codes of `shadegan`, in one table (README.md "Exit codes" repeats it).
// Slurm scripts and the local executor branch on these, so the numbers never change.
namespace sg {

enum class ExitCode : int {
  ok = 0,          // everything asked for is done
  failed = 1,      // a stage or job failed; rerunning resumes at the failure
  usage = 2,       // bad command line, configuration or option; nothing was started
  busy = 3,        // the run directory is locked by another live `shadegan run`
  preempted = 75,  // stopped on a signal after checkpointing; rerun to resume (EX_TEMPFAIL)
};

inline int to_int(ExitCode c) { return static_cast<int>(c); }

}  // namespace sg
