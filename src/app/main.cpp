// shadegan: one binary, one subcommand per file in this folder (see command.h).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <map>

#include "app/command.h"
#include "core/error.h"
#include "core/error_text.h"
#include "core/log.h"
#include "mpi/mpi.h"

int main(int argc, char** argv) {
  using namespace sg;
  CLI::App app{"ShadeGAN-HPC: shard, train, render, extract, evaluate and aggregate ShadeGAN runs "
               "as a resumable job graph, locally or on Slurm"};
  app.set_version_flag("--version", std::string("shadegan ") + SG_VERSION);
  app.require_subcommand(1);
  int verbosity = 0;
  bool quiet = false;
  app.add_flag("-v,--verbose", verbosity, "More output (debug messages)");
  app.add_flag("-q,--quiet", quiet, "Only warnings and errors");

  std::map<CLI::App*, std::function<app::Runner(CLI::App&)>> setups;
  std::map<CLI::App*, app::Runner> runners;
  for (const auto& c : app::commands()) {
    CLI::App* sub = app.add_subcommand(c.name, c.help);
    runners[sub] = c.setup(*sub);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    // Help and version are successes; every other parse problem is a usage error.
    return rc == 0 ? 0 : to_int(ExitCode::usage);
  }
  log::set_level(quiet ? log::Level::warn : verbosity > 0 ? log::Level::debug : log::Level::info);

  for (auto& [sub, run] : runners) {
    if (!sub->parsed()) continue;
    // LibTorch's errors lose their C++ backtrace (without_backtrace): the message says what failed.
    // A failure on one MPI rank ends the whole job (mpi::fail_job): the other ranks may be
    // waiting for this one in a collective, and would wait forever.
    try {
      return run();
    } catch (const Error& e) {
      log::error("{}", without_backtrace(e.what()));
      return mpi::fail_job(to_int(e.code));
    } catch (const CLI::Error& e) {
      log::error("{}", e.what());
      return mpi::fail_job(to_int(ExitCode::usage));
    } catch (const std::exception& e) {
      log::error("{}", without_backtrace(e.what()));
      return mpi::fail_job(to_int(ExitCode::failed));
    }
  }
  return to_int(ExitCode::usage);
}
