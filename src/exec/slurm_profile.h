#pragma once
// A Slurm site profile (slurm/<site>.toml): where and how `shadegan submit` runs jobs on one
// cluster. Everything a site differs in lives here, never in the code:
//
//   [slurm]
//   partition = "gpu"           account, qos, time, gres, mem, cpus_per_task, nodes: sbatch's
//   time = "04:00:00"           options of the same names ("" / 0: not passed)
//   modules = ["openmpi/4.1"]   `module load` lines at the top of every script
//   setup = ["source /opt/venv/bin/activate"]   more shell lines (trusted site text)
//   launcher = "srun"           MPI stages: "srun" or "mpirun"; launcher_args = ["--mpi=pmix"]
//   requeue_signal = "USR2"     preemptible stages get --requeue --signal=B:<sig>@<grace>
//   grace = 120                 seconds between the signal and the kill
//   max_requeues = 3            a job requeues itself at most this often (SLURM_RESTART_COUNT)
//   requeue_kinds = ["train"]   which kinds are preemptible
//   max_array_size = 0          0: ask `scontrol show config` (MaxArraySize)
//   array_throttle = 8          at most this many tasks of an array run at once (--array=...%8);
//                               absent: no limit beyond the cluster's
//   extra = ["--constraint=v100"]  more sbatch options, passed as they are
//   shadegan = ""               the binary on the compute nodes ("": this one)
//   template = "job.sh.tmpl"    the batch script template, relative to the profile
//
//   [kind.train]                per kind (or [stage.<name>], which wins): partition, account,
//   time = "24:00:00"           qos, time, gres, mem, cpus_per_task, nodes, extra, requeue
//   gres = "gpu:1"
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sg::exec {

struct JobResources {
  std::string partition, account, qos, time, gres, mem;
  int cpus_per_task = 0;
  int nodes = 0;
  std::vector<std::string> extra;
  std::optional<bool> requeue;
};

struct SlurmProfile {
  std::string file;  // where it was read from ("" for the built-in defaults)
  JobResources defaults;
  std::vector<std::string> modules, setup;
  std::string launcher = "mpirun";
  std::vector<std::string> launcher_args;
  std::string requeue_signal = "USR2";
  int grace = 120;
  int max_requeues = 3;
  std::vector<std::string> requeue_kinds{"train"};
  int max_array_size = 0;
  int array_throttle = 0;  // 0: none
  std::string shadegan;
  std::string template_path;  // absolute
  std::map<std::string, JobResources> kinds, stages;

  // [stage.<stage>] if there is one, else [kind.<kind>], else [slurm] (each layered on [slurm]).
  JobResources resources_for(const std::string& kind, const std::string& stage) const;
};

// ConfigError with file:line on unknown keys, wrong types, an unknown launcher or signal.
SlurmProfile load_slurm_profile(const std::string& path);

// The profile to use when none is named: $SG_SLURM_PROFILE, else slurm/local.toml beside the
// binary's source tree (<exe>/../slurm), else ./slurm/local.toml. ConfigError when none exists.
std::string default_profile_path(const std::string& exe);

}  // namespace sg::exec
