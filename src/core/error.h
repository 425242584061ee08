#pragma once
// Typed errors. Every failure the user can cause is one of these, carrying the process exit
// code it maps to (exit_code.h), so main() has a single place that turns errors into codes.
#include <stdexcept>
#include <string>

#include "core/exit_code.h"

namespace sg {

struct Error : std::runtime_error {
  ExitCode code;
  Error(ExitCode c, const std::string& what) : std::runtime_error(what), code(c) {}
};

// A configuration file, option or command line that is wrong: names the file, line, key and
// what was expected. Exit 2.
struct ConfigError : Error {
  explicit ConfigError(const std::string& what) : Error(ExitCode::usage, what) {}
};

// A file or directory that cannot be read or written (names the path and the OS reason). Exit 1.
struct IoError : Error {
  explicit IoError(const std::string& what) : Error(ExitCode::failed, what) {}
};

// Input data that is malformed (a checkpoint, an image, a JSON marker). Exit 1.
struct FormatError : Error {
  explicit FormatError(const std::string& what) : Error(ExitCode::failed, what) {}
};

// A stage or job that ran and failed. Exit 1.
struct StageError : Error {
  explicit StageError(const std::string& what) : Error(ExitCode::failed, what) {}
};

// Another live process holds the run directory. Exit 3.
struct BusyError : Error {
  explicit BusyError(const std::string& what) : Error(ExitCode::busy, what) {}
};

// Throws IoError "<what> '<path>': <strerror(errno)>" — the one place errno becomes text.
[[noreturn]] void throw_errno(const std::string& what, const std::string& path);

}  // namespace sg
