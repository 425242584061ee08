#include "exec/slurm_status.h"

#include <algorithm>
#include <filesystem>

#include "exec/slurm_record.h"
#include "graph/state_store.h"

namespace sg::exec {

bool has_slurm_jobs(const graph::JobGraph& g, const std::string& run_dir) {
  std::error_code ec;
  for (const auto& s : g.stages)
    if (std::filesystem::exists(slurm_record_path(run_dir, s.name), ec)) return true;
  return false;
}

void overlay_slurm(const graph::JobGraph& g, const std::string& run_dir, std::vector<graph::StageStatus>& stages,
                   SlurmCli& cli) {
  if (!has_slurm_jobs(g, run_dir)) return;
  const std::vector<QueuedJob> queue = cli.squeue();
  std::vector<std::string> gone;  // latest jobs of unfinished stages that left the queue silently
  std::vector<size_t> gone_stage;
  for (size_t i = 0; i < g.stages.size(); ++i) {
    auto& st = stages[i];
    if (st.state == graph::StageState::done) continue;
    const auto subs = read_submissions(run_dir, g.stages[i].name);
    if (subs.empty()) continue;
    const ActiveJobs a = active_jobs(subs, queue, g.stages[i].fingerprint);
    if (!a.job_ids.empty()) {
      st.scheduler = "job " + [&] {
        std::string s;
        for (const auto& id : a.job_ids) s += (s.empty() ? "" : ",") + id;
        return s;
      }() + " " + a.detail;
      if (a.running) {
        st.state = graph::StageState::running;
      } else if (st.state != graph::StageState::running) {
        // Pending, including a preempted job requeued and waiting to restart.
        st.state = st.preempted ? graph::StageState::preempted : graph::StageState::queued;
        if (st.preempted) st.scheduler += " (requeued)";
      }
    } else if (st.state == graph::StageState::not_started || st.state == graph::StageState::stale) {
      gone.push_back(subs.back().job_id);
      gone_stage.push_back(i);
    }
  }
  if (gone.empty()) return;
  const auto acct = cli.sacct(gone);
  for (size_t k = 0; k < gone.size(); ++k) {
    auto& st = stages[gone_stage[k]];
    std::string state;
    if (acct)
      if (auto it = acct->find(gone[k]); it != acct->end()) state = it->second;
    st.scheduler = "job " + gone[k] + " left the queue" + (state.empty() ? " without a marker" : " (" + state + ")");
  }
}

std::vector<std::string> stages_on_slurm(const graph::JobGraph& g, const std::string& run_dir,
                                         const std::vector<QueuedJob>& queue, bool other_fingerprint_only) {
  std::vector<std::string> out;
  for (const auto& s : g.stages) {
    std::vector<Submission> subs = read_submissions(run_dir, s.name);
    if (other_fingerprint_only)
      subs.erase(std::remove_if(subs.begin(), subs.end(), [&](const Submission& x) { return x.fingerprint == s.fingerprint; }),
                 subs.end());
    const ActiveJobs a = active_jobs(subs, queue, "");
    if (a.job_ids.empty()) continue;
    std::string ids;
    for (const auto& id : a.job_ids) ids += (ids.empty() ? "" : ",") + id;
    out.push_back(s.name + ": job " + ids + " " + a.detail);
  }
  return out;
}

std::vector<std::string> queued_job_ids(const graph::JobGraph& g, const std::string& run_dir, SlurmCli& cli) {
  std::vector<std::string> ids;
  if (!has_slurm_jobs(g, run_dir)) return ids;
  const auto queue = cli.squeue();
  for (const auto& s : g.stages) {
    const ActiveJobs a = active_jobs(read_submissions(run_dir, s.name), queue, "");
    ids.insert(ids.end(), a.job_ids.begin(), a.job_ids.end());
  }
  return ids;
}

}  // namespace sg::exec
