// Batch scripts: hostile values stay literal when bash runs the rendered script; options carry
// arrays, dependencies and the requeue signal; parsing of sbatch, squeue and scontrol output.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/subprocess.h"
#include "exec/slurm_cli.h"
#include "exec/slurm_profile.h"
#include "exec/slurm_record.h"
#include "exec/slurm_script.h"
#include "scratch.h"

using namespace sg::exec;

TEST_CASE("a rendered script passes hostile values to stage-exec literally and runs none of them") {
  const std::string dir = sg::test::scratch_dir("slurm_script_hostile");
  // A fake shadegan that prints its arguments, one per line.
  const std::string fake = dir + "/fake shadegan";
  sg::write_file_atomic(fake, "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]\\n' \"$a\"; done > \"$ARGS_OUT\"\n");
  std::filesystem::permissions(fake, std::filesystem::perms::owner_all);
  SlurmProfile p;
  p.modules = {"openmpi/4.1; touch " + dir + "/PWNED_module"};
  ScriptValues v;
  v.shadegan = fake;
  v.run_dir = dir + "/run $(touch " + dir + "/PWNED_a) `touch " + dir + "/PWNED_b`; 'q' \"dq\"\nnewline";
  v.stage = "st";
  v.header = "header";
  v.max_requeues = 2;
  const std::string tmpl = sg::read_file(std::string(SG_SOURCE_DIR) + "/slurm/job.sh.tmpl");
  const std::string text = render_script(tmpl, "job.sh.tmpl", p, v);
  CHECK(text.find("module load 'openmpi/4.1; touch") != std::string::npos);
  // The module line would run `module`, which is not installed here: drop it for the run.
  std::string runnable = text;
  runnable.replace(runnable.find("module load"), runnable.find('\n', runnable.find("module load")) - runnable.find("module load"), ":");
  const std::string script = dir + "/job.sh";
  sg::write_file_atomic(script, runnable);
  sg::ProcessSpec spec;
  spec.argv = {"bash", script};
  spec.env = {{"SLURM_JOB_ID", "77"}, {"ARGS_OUT", dir + "/args.txt"}};
  spec.output_path = dir + "/out.txt";
  const auto e = sg::run_process(spec);
  CHECK(e.code == 0);
  const std::string args = sg::read_file(dir + "/args.txt");
  // The launcher (none here: a bare stage) runs under `shadegan signal-shield`, which execs the rest.
  CHECK(args == "[signal-shield]\n[" + fake + "]\n[stage-exec]\n[--run-dir]\n[" + v.run_dir + "]\n[--stage]\n[st]\n");
  CHECK_FALSE(std::filesystem::exists(dir + "/PWNED_a"));
  CHECK_FALSE(std::filesystem::exists(dir + "/PWNED_b"));
  CHECK_FALSE(std::filesystem::exists(dir + "/PWNED_module"));
}

TEST_CASE("a template with an unknown placeholder names it") {
  SlurmProfile p;
  ScriptValues v;
  CHECK_THROWS_WITH_AS(render_script("@SHADEGAN@ @RUN_DIR@ @STAGE@ @NOPE@", "t.tmpl", p, v),
                       doctest::Contains("@NOPE@"), sg::ConfigError);
  CHECK_THROWS_WITH_AS(render_script("@SHADEGAN@ @STAGE@", "t.tmpl", p, v), doctest::Contains("@RUN_DIR@"),
                       sg::ConfigError);
}

TEST_CASE("sbatch options for a preemptible array stage") {
  SlurmProfile p;
  p.requeue_signal = "USR2";
  p.grace = 90;
  JobResources r;
  r.partition = "gpu";
  r.time = "1:00:00";
  JobOptions j;
  j.job_name = "sg-x-train";
  j.after = {"11", "12"};
  j.array = "0-3,7";
  j.requeue = true;
  j.ntasks = 2;
  const auto o = sbatch_options(p, r, j);
  auto has = [&](const std::string& w) { return std::find(o.begin(), o.end(), w) != o.end(); };
  CHECK(has("--partition=gpu"));
  CHECK(has("--dependency=afterok:11:12"));
  CHECK(has("--array=0-3,7"));
  CHECK(has("--requeue"));
  CHECK(has("--signal=B:USR2@90"));
  CHECK(has("--ntasks=2"));
  r.partition = "a\nb";
  CHECK_THROWS_AS(sbatch_options(p, r, j), sg::ConfigError);
}

TEST_CASE("a dependent job is killed when its dependency can never be met, a first job is not told so") {
  // Without --kill-on-invalid-dep a failed stage leaves its dependents pending forever on
  // clusters without DependencyParameters=kill_invalid_depend.
  SlurmProfile p;
  JobResources r;
  JobOptions j;
  j.job_name = "sg-x-join";
  j.after = {"11"};
  auto o = sbatch_options(p, r, j);
  CHECK(std::find(o.begin(), o.end(), "--kill-on-invalid-dep=yes") != o.end());
  j.after.clear();
  o = sbatch_options(p, r, j);
  CHECK(std::find(o.begin(), o.end(), "--kill-on-invalid-dep=yes") == o.end());
}

TEST_CASE("array_throttle limits how many tasks of every array run at once") {
  SlurmProfile p;
  p.array_throttle = 3;
  JobResources r;
  JobOptions j;
  j.job_name = "sg-x-fan";
  j.array = "0-3,7";
  auto o = sbatch_options(p, r, j);
  CHECK(std::find(o.begin(), o.end(), "--array=0-3,7%3") != o.end());
  j.array.clear();  // a plain job has no array to throttle
  o = sbatch_options(p, r, j);
  CHECK(std::none_of(o.begin(), o.end(), [](const std::string& w) { return w.rfind("--array", 0) == 0; }));
}

TEST_CASE("array_throttle in a profile: read, and refused with the key's name when not a count >= 1") {
  const std::string d = sg::test::scratch_dir("slurm_profile_throttle");
  sg::write_file_atomic(d + "/job.sh.tmpl", "@SHADEGAN@ @RUN_DIR@ @STAGE@\n");
  sg::write_file_atomic(d + "/ok.toml", "[slurm]\narray_throttle = 4\n");
  CHECK(load_slurm_profile(d + "/ok.toml").array_throttle == 4);
  for (const char* bad : {"array_throttle = 0", "array_throttle = -2", "array_throttle = \"4\""}) {
    sg::write_file_atomic(d + "/bad.toml", std::string("[slurm]\n") + bad + "\n");
    std::string msg;
    try {
      load_slurm_profile(d + "/bad.toml");
    } catch (const sg::ConfigError& e) {
      msg = e.what();
    }
    INFO(bad, " -> ", msg);
    CHECK(msg.find("bad.toml:2") != std::string::npos);
    CHECK(msg.find("array_throttle") != std::string::npos);
  }
}

TEST_CASE("mpirun's daemons on other nodes start shielded from SIGTERM, like mpirun itself") {
  sg::graph::KindSpec mpi_kind;
  mpi_kind.name = "train";
  mpi_kind.mpi = true;
  sg::graph::Stage s;
  s.name = "train";
  s.kind = &mpi_kind;
  s.ranks = 2;
  SlurmProfile p;
  p.launcher = "mpirun";
  p.launcher_args = {"--bind-to", "none"};
  const std::vector<std::string> want = {"mpirun", "-np", "2", "--mca", "orte_launch_agent",
                                         "/opt/sg/shadegan signal-shield orted", "--bind-to", "none"};
  CHECK(launch_words(p, s, "/opt/sg/shadegan") == want);
  // Open MPI splits the agent at spaces: such a path is left out rather than broken.
  const auto spaced = launch_words(p, s, "/opt/my sg/shadegan");
  CHECK(std::find(spaced.begin(), spaced.end(), "orte_launch_agent") == spaced.end());
  // Without a --bind-to of the profile's, ranks are unbound (Open MPI's np <= 2 default binds
  // each to one core, whatever --cpus-per-task gave the job); a profile's own binding stays.
  p.launcher_args = {};
  CHECK(launch_words(p, s, "/opt/sg/shadegan") ==
        std::vector<std::string>{"mpirun", "-np", "2", "--mca", "orte_launch_agent",
                                 "/opt/sg/shadegan signal-shield orted", "--bind-to", "none"});
  p.launcher_args = {"--bind-to", "core"};
  CHECK(launch_words(p, s, "/opt/sg/shadegan").back() == "core");
  p.launcher_args = {"--bind-to", "none"};
  p.launcher = "srun";
  CHECK(launch_words(p, s, "/opt/sg/shadegan") == std::vector<std::string>{"srun", "--bind-to", "none"});
  sg::graph::KindSpec plain;
  plain.name = "command";
  s.kind = &plain;
  CHECK(launch_words(p, s, "/opt/sg/shadegan").empty());
}

TEST_CASE("a run directory's % is literal in the --output pattern, Slurm's own patterns are kept") {
  CHECK(slurm_pattern_literal("/runs/100%done/logs/slurm/train") == "/runs/100%%done/logs/slurm/train");
  CHECK(slurm_pattern_literal("/a/%j%%/b") == "/a/%%j%%%%/b");
  CHECK(slurm_pattern_literal("/plain/dir") == "/plain/dir");
}

TEST_CASE("Slurm tools' output is read through a pipe: nothing in TMPDIR is created or followed") {
  const std::string dir = sg::test::scratch_dir("slurm_cli_tmp");
  // A victim file and, under every name the old temporary scheme would have used, a symlink to it.
  const std::string victim = dir + "/victim";
  std::ofstream(victim) << "untouched";
  const std::string tmp = dir + "/tmp";
  std::filesystem::create_directories(tmp);
  for (int n = 1; n <= 4; ++n)
    std::filesystem::create_symlink(victim, tmp + "/sg-slurm-" + std::to_string(::getpid()) + "-" + std::to_string(n) + ".out");
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old ? old : "";
  ::setenv("TMPDIR", tmp.c_str(), 1);
  // sbatch here is a script that prints a job id, as `sbatch --parsable` does.
  const std::string bin = dir + "/sbatch";
  std::ofstream(bin) << "#!/bin/sh\necho 'warning: something'\necho 4242\n";
  std::filesystem::permissions(bin, std::filesystem::perms::owner_all);
  const std::string saved_path = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", (dir + ":" + saved_path).c_str(), 1);
  SlurmCli cli;
  const std::string id = cli.sbatch({}, "script.sh", {});
  ::setenv("PATH", saved_path.c_str(), 1);
  if (old) ::setenv("TMPDIR", saved.c_str(), 1); else ::unsetenv("TMPDIR");
  CHECK(id == "4242");
  std::ifstream in(victim);
  std::string text;
  std::getline(in, text);
  CHECK(text == "untouched");
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp)) entries += e.is_symlink() ? 0 : 1;
  CHECK(entries == 0);
}

TEST_CASE("parsing sbatch, squeue and scontrol output") {
  CHECK(parse_sbatch_id("1234\n") == "1234");
  CHECK(parse_sbatch_id("sbatch: warning: x\n1234;cluster\n") == "1234");
  CHECK_FALSE(parse_sbatch_id("sbatch: error: Batch job submission failed\n"));
  CHECK_FALSE(parse_sbatch_id(""));
  const auto q = parse_squeue("15|N/A|N/A|RUNNING|None\n17|16|1|PENDING|Dependency\n16|16|0|RUNNING|None\n");
  REQUIRE(q.size() == 3);
  CHECK(q[0].array_job_id.empty());
  CHECK(q[1].array_job_id == "16");
  CHECK(q[1].array_task == 1);
  CHECK(q[1].reason == "Dependency");
  CHECK(parse_max_array_size("AuthType = auth/munge\nMaxArraySize            = 1001\n") == 1001);
  CHECK_THROWS_AS(parse_max_array_size("nothing"), sg::FormatError);
}

TEST_CASE("active jobs of a stage from one squeue listing, with array offsets") {
  std::vector<Submission> subs(2);
  subs[0].job_id = "40";
  subs[0].array = true;
  subs[0].offset = 0;
  subs[0].tasks = {0, 1, 2};
  subs[0].fingerprint = "f";
  subs[1].job_id = "50";
  subs[1].array = true;
  subs[1].offset = 1000;
  subs[1].tasks = {1000, 1001};
  subs[1].fingerprint = "f";
  const auto q = parse_squeue("41|40|1|RUNNING|None\n52|50|1|PENDING|Priority\n99|N/A|N/A|RUNNING|None\n");
  const ActiveJobs a = active_jobs(subs, q, "f");
  CHECK(a.tasks == std::vector<int>{1, 1001});
  CHECK(a.job_ids == std::vector<std::string>{"40", "50"});
  CHECK(a.running);
  CHECK_FALSE(a.whole_stage);
  CHECK(active_jobs(subs, q, "other").job_ids.empty());  // submissions of another fingerprint
}
