#pragma once
// The one wrapper around Slurm's command-line tools (sbatch, squeue, scontrol, scancel, sacct):
// each is run as a child process (argv, never a shell), its output parsed here, its failure
// turned into a typed error naming the command and what it said. The tools are found on PATH
// (tests put a call-counting wrapper there).
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sg::exec {

// One line of `squeue -r`: a job, or one element of an array job.
struct QueuedJob {
  std::string job_id;        // %A: this job's own id (an array element's own id too)
  std::string array_job_id;  // %F: the array's id ("" for a plain job)
  int array_task = -1;       // %K: the element's index, -1 for a plain job
  std::string state;         // PENDING, RUNNING, REQUEUED, COMPLETING, ...
  std::string reason;        // why it pends (Dependency, Resources, BeginTime, ...)
};

struct SlurmCli {
  int calls = 0;  // scheduler calls made through this object (for status's one-call promise)
  std::map<std::string, int> calls_by_tool;

  // `sbatch --parsable <options> <script> <args>`: the job id. StageError naming the script and
  // sbatch's message when it fails or prints no job id.
  std::string sbatch(const std::vector<std::string>& options, const std::string& script,
                     const std::vector<std::string>& args);
  // Every job of this user still known to the scheduler, array elements one per line: one call.
  std::vector<QueuedJob> squeue();
  // `scontrol show config`'s MaxArraySize.
  int max_array_size();
  void scancel(const std::vector<std::string>& job_ids);
  // Final states of jobs that left the queue, by job id (and <array>_<task>), in one call;
  // nullopt where accounting is disabled (sacct fails), as on the test cluster.
  std::optional<std::map<std::string, std::string>> sacct(const std::vector<std::string>& job_ids);

 private:
  // Runs argv, returns {exit code, stdout+stderr}.
  std::pair<int, std::string> run(const std::vector<std::string>& argv);
};

// Parsing, exposed for tests.
std::vector<QueuedJob> parse_squeue(const std::string& text);
std::optional<std::string> parse_sbatch_id(const std::string& text);
int parse_max_array_size(const std::string& scontrol_show_config);

}  // namespace sg::exec
