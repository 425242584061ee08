#include "exec/slurm_cli.h"

#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "core/subprocess.h"
#include "core/text.h"

namespace fs = std::filesystem;

namespace sg::exec {

std::pair<int, std::string> SlurmCli::run(const std::vector<std::string>& argv) {
  ++calls;
  ++calls_by_tool[argv.front()];
  // Output through a pipe (run_capture), not a file: a predictable name in $TMPDIR could be
  // pre-created or symlinked by another user, and a crash would leave it behind.
  ProcessSpec spec;
  spec.argv = argv;
  CapturedRun run;
  try {
    run = run_capture(spec);
  } catch (const IoError& err) {
    throw StageError("cannot run " + argv.front() + " (is Slurm installed and on PATH?): " + err.what());
  }
  const ProcessExit& e = run.exit;
  const std::string& out = run.output;
  log::debug("{} -> exit {}: {}", join(argv, " "), e.code, out);
  // A program that is not there: the wrapper's exec failure exits 127.
  if (e.code == 127) throw StageError(argv.front() + " not found: is Slurm installed and on PATH? " + out);
  return {e.code, out};
}

static std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

std::optional<std::string> parse_sbatch_id(const std::string& text) {
  // --parsable prints "<id>" or "<id>;<cluster>" on the last line; warnings may precede it.
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line))
    if (!trim(line).empty()) last = trim(line);
  const std::string id = last.substr(0, last.find(';'));
  if (id.empty() || !std::all_of(id.begin(), id.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return std::nullopt;
  return id;
}

std::string SlurmCli::sbatch(const std::vector<std::string>& options, const std::string& script,
                             const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"sbatch", "--parsable"};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.push_back(script);
  argv.insert(argv.end(), args.begin(), args.end());
  const auto [code, out] = run(argv);
  if (code != 0) throw StageError("sbatch " + script + " failed (exit " + std::to_string(code) + "): " + trim(out));
  auto id = parse_sbatch_id(out);
  if (!id) throw StageError("sbatch " + script + " printed no job id: '" + trim(out) + "'");
  return *id;
}

std::vector<QueuedJob> parse_squeue(const std::string& text) {
  std::vector<QueuedJob> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty()) continue;
    std::vector<std::string> f;
    std::string cur;
    for (char c : line) {
      if (c == '|') {
        f.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    f.push_back(cur);
    if (f.size() < 5) throw FormatError("squeue printed an unexpected line: '" + line + "'");
    QueuedJob j;
    j.job_id = f[0];
    const bool array = f[2] != "N/A" && !f[2].empty() && f[2] != "4294967294";
    j.array_job_id = array ? f[1] : "";
    if (array) {
      try {
        j.array_task = std::stoi(f[2]);
      } catch (const std::exception&) {
        j.array_task = -1;  // a pending range not split (without -r); treated as the whole array
      }
    }
    j.state = f[3];
    j.reason = f[4];
    out.push_back(std::move(j));
  }
  return out;
}

std::vector<QueuedJob> SlurmCli::squeue() {
  // %A own job id, %F array job id, %K array index, %T state, %r reason; -r: one line per
  // array element; --me: this user's jobs only.
  const auto [code, out] = run({"squeue", "--me", "-h", "-r", "-o", "%A|%F|%K|%T|%r"});
  if (code != 0) throw StageError("squeue failed (exit " + std::to_string(code) + "): " + trim(out));
  return parse_squeue(out);
}

int parse_max_array_size(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos || trim(line.substr(0, eq)) != "MaxArraySize") continue;
    try {
      return std::stoi(trim(line.substr(eq + 1)));
    } catch (const std::exception&) {
      break;
    }
  }
  throw FormatError("`scontrol show config` did not print MaxArraySize");
}

int SlurmCli::max_array_size() {
  const auto [code, out] = run({"scontrol", "show", "config"});
  if (code != 0) throw StageError("scontrol show config failed (exit " + std::to_string(code) + "): " + trim(out));
  return parse_max_array_size(out);
}

void SlurmCli::scancel(const std::vector<std::string>& ids) {
  if (ids.empty()) return;
  std::vector<std::string> argv = {"scancel"};
  argv.insert(argv.end(), ids.begin(), ids.end());
  const auto [code, out] = run(argv);
  if (code != 0) throw StageError("scancel failed (exit " + std::to_string(code) + "): " + trim(out));
}

std::optional<std::map<std::string, std::string>> SlurmCli::sacct(const std::vector<std::string>& ids) {
  if (ids.empty()) return std::map<std::string, std::string>{};
  const auto [code, out] = run({"sacct", "-n", "-P", "-X", "-o", "JobID,State", "-j", join(ids, ",")});
  if (code != 0) return std::nullopt;  // accounting disabled: the markers decide alone
  std::map<std::string, std::string> states;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    const auto bar = line.find('|');
    if (bar == std::string::npos) continue;
    states[trim(line.substr(0, bar))] = trim(line.substr(bar + 1));
  }
  return states;
}

}  // namespace sg::exec
