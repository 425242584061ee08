// shadegan stage-exec: run one stage of a run directory in this process (on every rank for MPI
// kinds). The local executor, mpirun and Slurm jobs all start exactly this, so a stage behaves
// the same wherever it runs. Hidden from the main help: people use `run`.
//
// Fan-out stages: `--task i` runs task i alone (a Slurm array task, or one of the local
// executor's concurrent tasks); without it every task not done yet runs, one after the other.
// Whoever finishes the last task writes the stage marker.
//
// Exit 75 (ExitCode::preempted): the work function stopped on a signal after saving its work.
// No marker is written; a preempted note is, and the code passes through to the caller (the
// local executor reports it; the Slurm batch script requeues the job).
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "app/command.h"
#include "core/error.h"
#include "core/error_text.h"
#include "core/log.h"
#include "core/signals.h"
#include "exec/stage_exec.h"
#include "graph/state_store.h"
#include "graph/task_markers.h"
#include "mpi/mpi.h"

namespace {

std::string slurm_job_id() {
  // An array task is known by <array job>_<task>; a plain job by its id.
  const char* a = std::getenv("SLURM_ARRAY_JOB_ID");
  const char* t = std::getenv("SLURM_ARRAY_TASK_ID");
  if (a && t) return std::string(a) + "_" + t;
  const char* j = std::getenv("SLURM_JOB_ID");
  return j ? j : "";
}

int stage_exec(const std::string& run_dir, const std::string& stage, int task) {
  using namespace sg;
  exec::PreparedStage p = exec::prepare_stage(run_dir, stage);
  const graph::KindSpec& kind = *p.stage().kind;
  if (!kind.run) throw StageError("kind '" + kind.name + "' has no implementation in this binary");
  const bool fanout = graph::is_fanout(p.stage());
  const int count = graph::stage_task_count(p.stage());
  if (task >= 0 && !fanout)
    throw ConfigError("--task " + std::to_string(task) + ": stage " + stage + " (kind " + kind.name +
                      ") does not fan out into tasks");
  if (task >= count)
    throw ConfigError("--task " + std::to_string(task) + ": stage " + stage + " has tasks 0.." +
                      std::to_string(count - 1));
  int rank = 0, size = 1;
  if (kind.mpi) {
    mpi::init();
    rank = mpi::rank();
    size = mpi::size();
    log::set_rank(rank, size);
    p.ctx.ranks = size;
  }
  log::attach_jsonl(p.ctx.log_path);
  const std::string job_id = slurm_job_id();
  if (const char* rc = std::getenv("SLURM_RESTART_COUNT"))
    log::info("Slurm job {} restarted {} time(s) (requeued)", job_id, rc);

  // The tasks this process runs: one, every missing one, or (not fanned out) the stage itself.
  std::vector<int> tasks;
  if (fanout) {
    const auto done = graph::tasks_done(p.graph, p.index, p.ctx.run_dir);
    if (task >= 0) {
      if (!done[static_cast<size_t>(task)]) tasks = {task};
    } else {
      tasks = graph::missing_tasks(done);
    }
    p.ctx.task_count = count;
  } else {
    tasks = {-1};
  }

  for (int t : tasks) {
    p.ctx.task_index = t;
    const std::string what = t >= 0 ? fmt::format("{} task {}/{}", p.ctx.stage_name, t, count) : p.ctx.stage_name;
    if (rank == 0) {
      if (t >= 0) exec::begin_task(p, t);
      else exec::begin_stage(p);
    }
    if (size > 1) mpi::barrier();  // rank 0 has collected the stage's left-over temporaries
    log::info("stage {} ({} v{}) started on {}{}", what, kind.name, kind.version, graph::this_host(),
              size > 1 ? ", " + std::to_string(size) + " ranks" : "");
    log::event("stage_start", {{"stage", p.ctx.stage_name}, {"task", t}, {"fingerprint", p.stage().fingerprint},
                               {"params", p.ctx.params}, {"ranks", size}, {"job_id", job_id}});
    try {
      kind.run(p.ctx);
    } catch (const std::exception& e) {
      const auto* err = dynamic_cast<const Error*>(&e);
      const bool preempted = err && err->code == ExitCode::preempted;
      if (preempted) {
        log::warn("stage {} preempted: {}; rerunning resumes it", what, e.what());
        log::event("stage_preempted", {{"stage", p.ctx.stage_name}, {"task", t}, {"signal", stop_signal()}});
        if (rank == 0) {
          graph::write_preempted(p.ctx.run_dir, p.ctx.stage_name, t, to_int(ExitCode::preempted));
          if (t >= 0) exec::abandon_task(p, t);
          else exec::abandon_stage(p);
        }
        if (size > 1) mpi::barrier();
        return to_int(ExitCode::preempted);
      }
      log::error("stage {} failed: {}", what, without_backtrace(e.what()));
      log::event("stage_failed", {{"stage", p.ctx.stage_name}, {"task", t}, {"error", without_backtrace(e.what())}});
      // Stopped by a signal (its orchestrator died, Slurm cancelled it): leave the running file,
      // so the next plan says the attempt was interrupted rather than never made.
      if (rank == 0 && !stop_requested()) {
        if (t >= 0) exec::abandon_task(p, t);
        else exec::abandon_stage(p);
      }
      // The other ranks may be waiting in a collective for this one: take them all down.
      if (size > 1) mpi::abort(1);
      return to_int(ExitCode::failed);
    }
    if (size > 1) mpi::barrier();  // every rank's outputs are complete before rank 0 lists them
    if (rank == 0) {
      if (t >= 0) {
        exec::finish_task(p, t, job_id);
        log::info("stage {} done", what);
        log::event("task_done", {{"stage", p.ctx.stage_name}, {"task", t}});
      } else {
        const graph::Marker m = exec::finish_stage(p, job_id);
        log::info("stage {} done in {:.1f} s: {} output files", what, m.duration_s, m.outputs.size());
        log::event("stage_done", {{"stage", m.stage}, {"duration_s", m.duration_s}, {"outputs", m.outputs.size()}});
      }
    }
  }
  if (fanout && rank == 0) {
    if (exec::finalize_fanout(p, job_id)) {
      log::info("stage {}: all {} tasks done", p.ctx.stage_name, count);
      graph::remove_if_exists(graph::preempted_path(p.ctx.run_dir, p.ctx.stage_name));
    }
  }
  return 0;
}

const bool registered = sg::app::register_command(
    {"stage-exec", "Run one stage of a run directory (started by `run` and by Slurm jobs)",
     [](CLI::App& sub) -> sg::app::Runner {
       sub.group("");  // hidden from `shadegan --help`
       auto run_dir = std::make_shared<std::string>();
       auto stage = std::make_shared<std::string>();
       auto task = std::make_shared<int>(-1);
       auto record = std::make_shared<int>(0);
       auto message = std::make_shared<std::string>();
       auto wait = std::make_shared<int>(0);
       sub.add_option("--run-dir", *run_dir, "Run directory holding run.toml")->required();
       sub.add_option("--stage", *stage, "Stage name")->required();
       sub.add_option("--task", *task, "Fan-out stages: run this task only (0-based)")->check(CLI::NonNegativeNumber);
       sub.add_option("--record-exit", *record,
                      "Do not run: record that an attempt ended with this exit code (batch scripts)");
       sub.add_option("--message", *message, "With --record-exit: what happened");
       sub.add_option("--wait", *wait,
                      "With --record-exit: wait up to this many seconds for the stage's ranks to report "
                      "preemption before recording a failure; exits 75 if they do");
       return [=] {
         if (*record != 0) {
           // 75 when the attempt turned out preempted (see record_exit), else 0: recorded.
           const int ended = sg::exec::record_exit(std::filesystem::absolute(*run_dir).lexically_normal().string(),
                                                   *stage, *task, *record,
                                                   message->empty() ? "exit code " + std::to_string(*record) : *message,
                                                   *wait);
           return ended == sg::to_int(sg::ExitCode::preempted) ? ended : 0;
         }
         return stage_exec(*run_dir, *stage, *task);
       };
     }});

}  // namespace
