#include "exec/slurm_script.h"

#include <algorithm>
#include <map>

#include "core/error.h"
#include "core/text.h"

namespace sg::exec {

std::string render_script(const std::string& tmpl, const std::string& name, const SlurmProfile& profile,
                          const ScriptValues& v) {
  if (v.header.find('\n') != std::string::npos) throw ConfigError("script header must be one line");
  std::string setup;
  for (const auto& m : profile.modules) setup += "module load " + shell_quote(m) + "\n";
  for (const auto& line : profile.setup) setup += line + "\n";  // the site's own shell text, trusted
  if (!setup.empty()) setup.pop_back();
  std::string launch;
  for (const auto& w : v.launch) launch += (launch.empty() ? "" : " ") + shell_quote(w);
  // The header is a comment: make sure nothing in it can end the comment line.
  const std::map<std::string, std::string> values = {
      {"SHADEGAN", shell_quote(v.shadegan)},
      {"RUN_DIR", shell_quote(v.run_dir)},
      {"STAGE", shell_quote(v.stage)},
      {"MAX_REQUEUES", std::to_string(v.max_requeues)},
      {"GRACE", std::to_string(std::max(1, profile.grace))},
      {"LAUNCH", launch},
      {"SETUP", setup},
      {"HEADER", v.header},
  };
  std::map<std::string, int> used;
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    const size_t at = tmpl.find('@', i);
    if (at == std::string::npos) {
      out.append(tmpl, i, std::string::npos);
      break;
    }
    out.append(tmpl, i, at - i);
    const size_t end = tmpl.find('@', at + 1);
    const std::string key = end == std::string::npos ? "" : tmpl.substr(at + 1, end - at - 1);
    const bool is_name = !key.empty() && key.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == std::string::npos;
    if (!is_name) {  // a literal '@' (e.g. "${a[@]}")
      out += '@';
      i = at + 1;
      continue;
    }
    auto it = values.find(key);
    if (it == values.end()) {
      std::vector<std::string> names;
      for (const auto& [k, _] : values) names.push_back(k);
      throw ConfigError("Slurm template " + name + ": " + unknown_name_message("placeholder", "@" + key + "@", names));
    }
    out += it->second;
    used[key]++;
    i = end + 1;
  }
  for (const char* required : {"SHADEGAN", "RUN_DIR", "STAGE"})
    if (!used.count(required))
      throw ConfigError("Slurm template " + name + " lacks the placeholder @" + std::string(required) + "@");
  return out;
}

std::string slurm_pattern_literal(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '%') out += '%';
    out += c;
  }
  return out;
}

std::vector<std::string> sbatch_options(const SlurmProfile& p, const JobResources& r, const JobOptions& j) {
  std::vector<std::string> o;
  auto add = [&](const std::string& opt, const std::string& value) {
    if (value.empty()) return;
    if (value.find('\n') != std::string::npos) throw ConfigError("sbatch option " + opt + ": value has a newline");
    o.push_back(opt + "=" + value);
  };
  add("--job-name", j.job_name);
  add("--output", j.output);
  o.push_back("--open-mode=append");
  add("--partition", r.partition);
  add("--account", r.account);
  add("--qos", r.qos);
  add("--time", r.time);
  add("--gres", r.gres);
  add("--mem", r.mem);
  if (r.nodes > 0) add("--nodes", std::to_string(r.nodes));
  add("--ntasks", std::to_string(std::max(1, j.ntasks)));
  if (r.cpus_per_task > 0) add("--cpus-per-task", std::to_string(r.cpus_per_task));
  if (!j.array.empty()) add("--array", p.array_throttle > 0 ? j.array + "%" + std::to_string(p.array_throttle) : j.array);
  if (!j.after.empty()) {
    add("--dependency", "afterok:" + join(j.after, ":"));
    // A dependency that can never be met (the stage before failed) cancels the job instead of
    // leaving it pending forever on clusters without DependencyParameters=kill_invalid_depend.
    o.push_back("--kill-on-invalid-dep=yes");
  }
  if (j.requeue) {
    o.push_back("--requeue");
    add("--signal", "B:" + p.requeue_signal + "@" + std::to_string(p.grace));
  } else {
    o.push_back("--no-requeue");
  }
  for (const auto& e : r.extra) {
    if (e.find('\n') != std::string::npos) throw ConfigError("sbatch option '" + e + "' has a newline");
    o.push_back(e);
  }
  return o;
}

std::vector<std::string> launch_words(const SlurmProfile& p, const graph::Stage& s, const std::string& shadegan) {
  if (!s.kind->mpi) return {};
  std::vector<std::string> w;
  if (p.launcher == "srun") {
    w = {"srun"};
  } else {
    w = {"mpirun", "-np", std::to_string(s.ranks)};
    // On preemption Slurm sends SIGTERM to every process of the job on every node. mpirun runs
    // under signal-shield, but its daemons on the other nodes (orted, started through srun)
    // would end their ranks mid-checkpoint and mpirun would then abort the whole job (measured
    // on the 2-node test cluster: "ORTE has lost communication with a remote daemon", nothing
    // saved). So they start through signal-shield too; their ranks unblock the signals again.
    // Open MPI splits the agent at spaces: a binary path with whitespace cannot be shielded.
    if (shadegan.find_first_of(" \t\n") == std::string::npos)
      w.insert(w.end(), {"--mca", "orte_launch_agent", shadegan + " signal-shield orted"});
  }
  // Open MPI binds each rank to one core when np <= 2, whatever --cpus-per-task gave the job:
  // unbound, mpi::rank_threads takes the rank's share (the job's CPUs, SLURM_CPUS_PER_TASK).
  // A profile that binds on purpose (launcher_args with --bind-to) is left as it says.
  if (p.launcher == "mpirun" &&
      std::find(p.launcher_args.begin(), p.launcher_args.end(), "--bind-to") == p.launcher_args.end())
    w.insert(w.end(), {"--bind-to", "none"});
  w.insert(w.end(), p.launcher_args.begin(), p.launcher_args.end());
  return w;
}

}  // namespace sg::exec
