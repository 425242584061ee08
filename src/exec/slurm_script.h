#pragma once
// Batch scripts from the template (slurm/job.sh.tmpl, named by the site profile). The template
// is bash with @NAME@ placeholders; every value filled in is shell-quoted here (core/text.h),
// so paths with spaces and hostile text ($(...), backticks, quotes, ;, newlines) stay literal
// strings. The sbatch options travel on sbatch's command line (argv, no shell at all).
#include <string>
#include <vector>

#include "exec/slurm_profile.h"
#include "graph/job_graph.h"

namespace sg::exec {

struct ScriptValues {
  std::string shadegan;  // the binary on the compute node
  std::string run_dir;
  std::string stage;
  std::string header;    // one comment line (no newlines)
  std::vector<std::string> launch;  // words before `shadegan stage-exec`, e.g. {"srun", "--mpi=pmix"}
  int max_requeues = 0;
};

// The template with its placeholders filled; ConfigError naming the template when it has an
// unknown placeholder or lacks a required one.
std::string render_script(const std::string& template_text, const std::string& template_name,
                          const SlurmProfile& profile, const ScriptValues& values);

// The sbatch options of one stage's job (job name, output, resources, dependencies, array,
// requeue and signal for preemptible kinds), as argv words.
struct JobOptions {
  std::string job_name;
  std::string output;             // log file pattern
  std::vector<std::string> after; // job ids it waits for (afterok)
  std::string array;              // "0-9,12" or "" for a plain job
  bool requeue = false;
  int ntasks = 1;
};
std::vector<std::string> sbatch_options(const SlurmProfile& profile, const JobResources& resources,
                                        const JobOptions& job);

// `path` as a literal part of an sbatch filename pattern (--output): Slurm expands %j, %A, %a,
// %x, ... anywhere in it, so a run directory named "100%done" would write its logs elsewhere;
// "%%" is Slurm's literal "%". (A backslash anywhere turns off every replacement, %j included,
// so a run directory with one gets log files named literally "...-%j.out"; Slurm offers no
// escape for it.)
std::string slurm_pattern_literal(const std::string& path);

// The launcher words for a stage: MPI kinds under srun or mpirun (the profile's choice), others
// bare. mpirun's daemons on other nodes start through `<shadegan> signal-shield orted`.
std::vector<std::string> launch_words(const SlurmProfile& profile, const graph::Stage& stage,
                                      const std::string& shadegan);

}  // namespace sg::exec
