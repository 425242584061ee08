// The `command` stage kind: a shell command with declared outputs. It stood in for the real
// kinds while they were written and stays useful for archiving and custom post-processing.
//
//   [[stage]]
//   name = "archive"
//   kind = "command"
//   after = ["render"]
//   run = "tar czf images.tgz -C \"$SG_INPUT_RENDER\" ."
//   outputs = ["images.tgz"]
//
// The command runs with `sh -c` in the stage directory, with SG_RUN_DIR, SG_STAGE_DIR and
// SG_INPUT_<DEPENDENCY> (the dependency's stage directory; name upper-cased, '-' as '_') set.
//
// `tasks = N` (N > 1) fans the stage out into N tasks (graph/task_markers.h): the command runs
// once per task with SG_TASK_INDEX (0..N-1) and SG_TASK_COUNT set, concurrently under `run -j`
// or as a Slurm job array; "{task}" in an output name stands for the task's index.
//
// A command that exits 75 (ExitCode::preempted) saved its work and wants to be resumed: the
// stage reports "preempted", not "failed". SIGUSR1/SIGUSR2/SIGTERM to the stage are forwarded
// to the command's process group as SIGTERM, so a checkpointing command traps TERM in `run`
// itself or is started with `exec` (a wrapping `sh -c` would die of the TERM and lose the 75).
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>

#include "app/command.h"
#include "core/error.h"
#include "core/log.h"
#include "core/signals.h"
#include "core/subprocess.h"
#include "graph/kind.h"

namespace {

std::string env_name(const std::string& dep) {
  std::string out = "SG_INPUT_";
  for (char c : dep) out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

void check_output_name(const std::string& o) {
  const std::filesystem::path p(o);
  bool escapes = p.is_absolute() || o.empty();
  for (const auto& part : p) escapes = escapes || part == "..";
  if (escapes)
    throw sg::ConfigError("command: output '" + o + "' must be a path inside the stage directory (relative, no '..')");
}

std::string output_for_task(std::string o, int task) {
  for (size_t at; (at = o.find("{task}")) != std::string::npos;) o.replace(at, 6, std::to_string(task));
  return o;
}

void run_one(const sg::graph::StageContext& ctx, int task, int count) {
  using namespace sg;
  const std::string cmd = ctx.params.at("run").get<std::string>();
  const auto outputs = ctx.params.at("outputs").get<std::vector<std::string>>();
  for (const auto& o : outputs) check_output_name(o);

  ProcessSpec spec;
  spec.argv = {"sh", "-c", cmd};
  spec.cwd = ctx.stage_dir;
  spec.env = {{"SG_RUN_DIR", ctx.run_dir}, {"SG_STAGE_DIR", ctx.stage_dir},
              {"SG_TASK_INDEX", std::to_string(task)}, {"SG_TASK_COUNT", std::to_string(count)}};
  for (const auto& [dep, dir] : ctx.inputs) spec.env.emplace_back(env_name(dep), dir);
  log::info("command{}: {}", count > 1 ? " (task " + std::to_string(task) + ")" : "", cmd);
  // A SIGTERM (the orchestrator died, or Slurm cancels the job) must take the whole command
  // with it, not only `sh`: watch for it and signal the command's process group.
  install_stop_handlers();
  const int pid = spawn(spec);
  const std::optional<ProcessExit> e = wait_any_polling(
      [&] {
        if (!stop_requested()) return;
        signal_group(pid, SIGTERM);
        const ProcessExit stopped = wait_pid(pid);
        if (stopped.code == to_int(ExitCode::preempted))
          throw Error(ExitCode::preempted, "command saved its work and exited 75 on signal " +
                                               std::to_string(stop_signal()));
        throw StageError("command stopped by signal " + std::to_string(stop_signal()));
      },
      20);
  if (!e) throw StageError("lost track of the command's process (pid " + std::to_string(pid) + "): " + cmd);
  if (e->code == to_int(ExitCode::preempted))
    throw Error(ExitCode::preempted, "command exited 75 (preempted; rerunning resumes it): " + cmd);
  if (e->code != 0)
    throw StageError("command " + (e->signal ? "killed by signal " + std::to_string(e->signal)
                                             : "exited with code " + std::to_string(e->code)) +
                     ": " + cmd);
  for (const auto& o : outputs)
    if (!std::filesystem::exists(ctx.stage_dir + "/" + output_for_task(o, task)))
      throw StageError("command succeeded but declared output '" + output_for_task(o, task) + "' is missing in " +
                       ctx.stage_dir);
}

void run_command(const sg::graph::StageContext& ctx) {
  const int count = static_cast<int>(ctx.params.at("tasks").get<int64_t>());
  if (ctx.task_index >= 0) return run_one(ctx, ctx.task_index, count);
  for (int t = 0; t < count; ++t) run_one(ctx, t, count);
}

const bool registered = [] {
  using sg::graph::ParamType;
  sg::graph::KindSpec k;
  k.name = "command";
  k.version = 1;
  k.help = "Run a shell command in the stage directory; declared outputs must exist afterwards";
  k.params = {
      {"run", ParamType::string, nullptr, "shell command (sh -c), run in the stage directory"},
      {"outputs", ParamType::string_list, nlohmann::json::array(),
       "files the command must create, relative to the stage directory ({task}: the task index)"},
      {"tasks", ParamType::integer, 1, "fan out into this many tasks (SG_TASK_INDEX in the environment)"},
  };
  k.run = run_command;
  k.task_count = [](const nlohmann::json& params) { return static_cast<int>(params.at("tasks").get<int64_t>()); };
  sg::graph::register_kind(std::move(k));
  return true;
}();

}  // namespace
