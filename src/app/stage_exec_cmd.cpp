// shadegan stage-exec: run one stage of a run directory in this process (on every rank for MPI
// kinds). The local executor, mpirun and Slurm jobs all start exactly this, so a stage behaves
// the same wherever it runs. Hidden from the main help: people use `run`.
#include <cstdlib>
#include <memory>

#include "app/command.h"
#include "core/error.h"
#include "core/log.h"
#include "core/signals.h"
#include "exec/stage_exec.h"
#include "graph/state_store.h"
#include "mpi/mpi.h"

namespace {

int stage_exec(const std::string& run_dir, const std::string& stage) {
  using namespace sg;
  exec::PreparedStage p = exec::prepare_stage(run_dir, stage);
  const graph::KindSpec& kind = *p.stage().kind;
  if (!kind.run) throw StageError("kind '" + kind.name + "' has no implementation in this binary");
  int rank = 0, size = 1;
  if (kind.mpi) {
    mpi::init();
    rank = mpi::rank();
    size = mpi::size();
    log::set_rank(rank, size);
    p.ctx.ranks = size;
  }
  log::attach_jsonl(p.ctx.log_path);
  const char* job = std::getenv("SLURM_JOB_ID");
  const std::string job_id = job ? job : "";
  if (rank == 0) exec::begin_stage(p);
  log::info("stage {} ({} v{}) started on {}{}", p.ctx.stage_name, kind.name, kind.version, graph::this_host(),
            size > 1 ? ", " + std::to_string(size) + " ranks" : "");
  log::event("stage_start", {{"stage", p.ctx.stage_name}, {"fingerprint", p.stage().fingerprint},
                             {"params", p.ctx.params}, {"ranks", size}, {"job_id", job_id}});
  try {
    kind.run(p.ctx);
  } catch (const std::exception& e) {
    log::error("stage {} failed: {}", p.ctx.stage_name, e.what());
    log::event("stage_failed", {{"stage", p.ctx.stage_name}, {"error", e.what()}});
    // Stopped by a signal (its orchestrator died, Slurm cancelled it): leave the running file,
    // so the next plan says the attempt was interrupted rather than never made.
    if (rank == 0 && !stop_requested()) exec::abandon_stage(p);
    // The other ranks may be waiting in a collective for this one: take them all down.
    if (size > 1) mpi::abort(1);
    return to_int(ExitCode::failed);
  }
  if (size > 1) mpi::barrier();  // every rank's outputs are complete before rank 0 lists them
  if (rank == 0) {
    const graph::Marker m = exec::finish_stage(p, job_id);
    log::info("stage {} done in {:.1f} s: {} output files", p.ctx.stage_name, m.duration_s, m.outputs.size());
    log::event("stage_done", {{"stage", m.stage}, {"duration_s", m.duration_s}, {"outputs", m.outputs.size()}});
  }
  return 0;
}

const bool registered = sg::app::register_command(
    {"stage-exec", "Run one stage of a run directory (started by `run` and by Slurm jobs)",
     [](CLI::App& sub) -> sg::app::Runner {
       sub.group("");  // hidden from `shadegan --help`
       auto run_dir = std::make_shared<std::string>();
       auto stage = std::make_shared<std::string>();
       sub.add_option("--run-dir", *run_dir, "Run directory holding run.toml")->required();
       sub.add_option("--stage", *stage, "Stage name")->required();
       return [=] { return stage_exec(*run_dir, *stage); };
     }});

}  // namespace
