#pragma once
// What was submitted to Slurm for a stage: <run>/state/<stage>.slurm.json, appended after every
// successful sbatch (before the next one), so a submit that fails half-way still knows what it
// queued and a second submit never queues a duplicate.
//
//   {"submissions": [{"job_id": "123", "array": true, "offset": 0, "tasks": [0, 1, 4],
//                     "fingerprint": "...", "time": "...", "script": ".../slurm/render.sh"}]}
#include <optional>
#include <string>
#include <vector>

#include "exec/slurm_cli.h"

namespace sg::exec {

struct Submission {
  std::string job_id;
  bool array = false;
  int offset = 0;          // array element k runs task offset + k
  std::vector<int> tasks;  // array: the task indices submitted; plain job: empty
  std::string fingerprint;
  std::string time;
  std::string script;
};

std::string slurm_record_path(const std::string& run_dir, const std::string& stage);
std::vector<Submission> read_submissions(const std::string& run_dir, const std::string& stage);
void append_submission(const std::string& run_dir, const std::string& stage, const Submission& s);

// A stage's jobs the queue still holds.
struct ActiveJobs {
  std::vector<std::string> job_ids;  // to depend on / cancel: plain job ids and array job ids
  bool whole_stage = false;          // a plain (non-array) job of the stage is queued or running
  std::vector<int> tasks;            // array tasks queued or running
  bool running = false;              // any of them RUNNING (else pending)
  std::string detail;                // "PENDING (Dependency)", "RUNNING", ...
};

// Matches the stage's recorded submissions (of `fingerprint`) against one squeue listing.
ActiveJobs active_jobs(const std::vector<Submission>& subs, const std::vector<QueuedJob>& queue,
                       const std::string& fingerprint);

}  // namespace sg::exec
