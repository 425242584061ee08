#pragma once
// Subcommands register themselves: each file in src/app defines one command with
//   static const bool registered = sg::app::register_command({"name", "help", setup});
// where setup(CLI::App&) adds the options and returns the function that runs the command.
// main.cpp knows no command by name, so adding one is adding one file.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace sg::app {

using Runner = std::function<int()>;

struct Command {
  std::string name;
  std::string help;
  std::function<Runner(CLI::App&)> setup;
};

bool register_command(Command command);
const std::vector<Command>& commands();

// Path of this executable (/proc/self/exe), for starting stages as child processes.
std::string self_exe();

}  // namespace sg::app
