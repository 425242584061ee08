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
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <thread>

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

void run_command(const sg::graph::StageContext& ctx) {
  using namespace sg;
  const std::string cmd = ctx.params.at("run").get<std::string>();
  const auto outputs = ctx.params.at("outputs").get<std::vector<std::string>>();
  for (const auto& o : outputs) check_output_name(o);

  ProcessSpec spec;
  spec.argv = {"sh", "-c", cmd};
  spec.cwd = ctx.stage_dir;
  spec.env = {{"SG_RUN_DIR", ctx.run_dir}, {"SG_STAGE_DIR", ctx.stage_dir}};
  for (const auto& [dep, dir] : ctx.inputs) spec.env.emplace_back(env_name(dep), dir);
  log::info("command: {}", cmd);
  // A SIGTERM (the orchestrator died, or Slurm cancels the job) must take the whole command
  // with it, not only `sh`: watch for it and signal the command's process group.
  install_stop_handlers();
  const int pid = spawn(spec);
  std::optional<ProcessExit> e;
  while (!(e = wait_any(false))) {
    if (stop_requested()) {
      signal_group(pid, SIGTERM);
      wait_pid(pid);
      throw StageError("command stopped by signal " + std::to_string(stop_signal()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (e->code != 0)
    throw StageError("command " + (e->signal ? "killed by signal " + std::to_string(e->signal)
                                             : "exited with code " + std::to_string(e->code)) +
                     ": " + cmd);
  for (const auto& o : outputs)
    if (!std::filesystem::exists(ctx.stage_dir + "/" + o))
      throw StageError("command succeeded but declared output '" + o + "' is missing in " + ctx.stage_dir);
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
       "files the command must create, relative to the stage directory"},
  };
  k.run = run_command;
  sg::graph::register_kind(std::move(k));
  return true;
}();

}  // namespace
