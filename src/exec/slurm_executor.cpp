#include "exec/slurm_executor.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "core/text.h"
#include "exec/slurm_script.h"
#include "exec/slurm_status.h"
#include "graph/state_store.h"
#include "graph/task_markers.h"

namespace fs = std::filesystem;

namespace sg::exec {

SlurmExecutor::SlurmExecutor(SlurmOptions options) : opt_(std::move(options)) {
  template_text_ = read_file(opt_.profile.template_path);
}

const std::vector<QueuedJob>& SlurmExecutor::queue() {
  if (!queue_) queue_ = opt_.dry_run ? std::vector<QueuedJob>{} : cli_.squeue();
  return *queue_;
}

int SlurmExecutor::max_array_size() {
  if (max_array_size_ == 0)
    max_array_size_ = opt_.profile.max_array_size > 0 ? opt_.profile.max_array_size
                      : opt_.dry_run                   ? 1001  // Slurm's default; nothing is asked in a dry run
                                                       : cli_.max_array_size();
  return max_array_size_;
}

void SlurmExecutor::refuse_stale_jobs(const graph::JobGraph& g, const std::string& run_dir) {
  if (opt_.dry_run || !has_slurm_jobs(g, run_dir)) return;
  const auto stale = stages_on_slurm(g, run_dir, queue(), true);
  if (stale.empty()) return;
  throw BusyError("the configuration of " + run_dir + " changed while jobs of the earlier one are still queued or running (" +
                  join(stale, "; ") + "); submitting now would leave them to run the new configuration beside the new "
                  "jobs. Cancel them first (shadegan cancel " + shell_quote(run_dir) +
                  "; finished stages keep their results), then submit again");
}

ExecSummary SlurmExecutor::execute(const graph::JobGraph& g, const graph::Plan& plan, const std::string& run_dir) {
  ExecSummary s;
  for (const auto& j : submit(g, plan, run_dir))
    if (j.submitted && (s.succeeded.empty() || s.succeeded.back() != j.stage)) s.succeeded.push_back(j.stage);
  return s;
}

std::vector<PlannedJob> SlurmExecutor::submit(const graph::JobGraph& g, const graph::Plan& plan,
                                              const std::string& run_dir,
                                              const std::map<std::string, std::vector<std::string>>& external,
                                              const std::vector<std::string>& after_all) {
  const SlurmProfile& P = opt_.profile;
  const std::string exe = P.shadegan.empty() ? opt_.exe : P.shadegan;
  std::vector<PlannedJob> jobs;
  // Per stage: the job ids dependents wait for (submitted now or still queued), and whether
  // the stage is being (re)computed, which makes every task of a dependent fan-out stage rerun.
  std::vector<std::vector<std::string>> waits(g.stages.size());
  std::vector<bool> rerun(g.stages.size(), false);
  std::vector<std::string> submitted_log;

  for (size_t i = 0; i < g.stages.size(); ++i) {
    const graph::Stage& s = g.stages[i];
    if (auto ext = external.find(s.name); ext != external.end()) {
      waits[i] = ext->second;
      rerun[i] = !ext->second.empty();
      continue;
    }
    if (!plan.stages[i].run) {
      jobs.push_back({s.name, "", "up to date"});
      continue;
    }
    rerun[i] = true;
    std::vector<std::string> after;
    if (s.deps.empty()) after = after_all;
    bool inputs_change = false;
    for (size_t d : s.deps) {
      after.insert(after.end(), waits[d].begin(), waits[d].end());
      inputs_change = inputs_change || rerun[d];
    }
    std::sort(after.begin(), after.end());
    after.erase(std::unique(after.begin(), after.end()), after.end());

    const auto subs = read_submissions(run_dir, s.name);
    const ActiveJobs active = active_jobs(subs, queue(), s.fingerprint);
    const bool fanout = graph::is_fanout(s);
    std::vector<int> tasks;  // fan-out: what to submit now
    if (fanout) {
      if (plan.stages[i].forced && !opt_.dry_run) graph::clear_tasks(run_dir, s.name);
      std::vector<bool> done(static_cast<size_t>(graph::stage_task_count(s)), false);
      if (!inputs_change && !plan.stages[i].forced) done = graph::tasks_done(g, i, run_dir);
      for (int t : active.tasks)
        if (t >= 0 && static_cast<size_t>(t) < done.size()) done[static_cast<size_t>(t)] = true;
      tasks = graph::missing_tasks(done);
    }
    if ((!fanout && active.whole_stage) || (fanout && tasks.empty() && !active.job_ids.empty())) {
      waits[i] = active.job_ids;
      jobs.push_back({s.name, join(active.job_ids, ","), "already queued as " + join(active.job_ids, ",") +
                                                             (active.detail.empty() ? "" : " (" + active.detail + ")")});
      continue;
    }

    const JobResources res = P.resources_for(s.kind->name, s.name);
    const bool requeue = res.requeue.value_or(std::find(P.requeue_kinds.begin(), P.requeue_kinds.end(),
                                                        s.kind->name) != P.requeue_kinds.end());
    const std::string script_path = run_dir + "/slurm/" + s.name + ".sh";
    ScriptValues v;
    v.shadegan = exe;
    v.run_dir = run_dir;
    v.stage = s.name;
    v.launch = launch_words(P, s, exe);
    v.max_requeues = P.max_requeues;
    v.header = "shadegan stage " + s.name + " (kind " + s.kind->name + ", fingerprint " + s.fingerprint + ")";
    const std::string text = render_script(template_text_, P.template_path, P, v);

    // Chunks: one plain job, or array chunks of at most MaxArraySize indices (index < max).
    struct Chunk {
      int offset = 0;
      std::vector<int> tasks;
    };
    std::vector<Chunk> chunks;
    if (!fanout || tasks.empty()) {
      chunks.push_back({});  // a plain job (a fan-out stage whose tasks are all done: it only finalizes)
    } else {
      const int m = max_array_size();
      for (int t : tasks) {
        const int offset = (t / m) * m;
        if (chunks.empty() || chunks.back().offset != offset) chunks.push_back({offset, {}});
        chunks.back().tasks.push_back(t);
      }
    }
    if (!opt_.dry_run) {
      create_dirs(run_dir + "/logs/slurm");
      write_file_atomic(script_path, text);
      fs::permissions(script_path, fs::perms::owner_exec, fs::perm_options::add);
    }
    for (const auto& c : chunks) {
      PlannedJob j;
      j.stage = s.name;
      j.tasks = c.tasks;
      j.offset = c.offset;
      j.after = after;
      j.script_path = script_path;
      j.script_text = text;
      JobOptions jo;
      jo.job_name = "sg-" + g.name + "-" + s.name;
      jo.output = slurm_pattern_literal(run_dir + "/logs/slurm/" + s.name) + (c.tasks.empty() ? "-%j.out" : "-%A_%a.out");
      jo.after = after;
      if (!c.tasks.empty()) {
        std::vector<int> idx;
        for (int t : c.tasks) idx.push_back(t - c.offset);
        jo.array = graph::index_ranges(idx);
      }
      jo.requeue = requeue;
      jo.ntasks = s.kind->mpi ? s.ranks : 1;
      j.options = sbatch_options(P, res, jo);
      const std::vector<std::string> args = c.tasks.empty() ? std::vector<std::string>{}
                                                            : std::vector<std::string>{std::to_string(c.offset)};
      if (opt_.dry_run) {
        j.job_id = "<" + s.name + (chunks.size() > 1 ? "." + std::to_string(c.offset) : "") + ">";
        j.submitted = true;
        j.note = "would submit";
      } else {
        try {
          j.job_id = cli_.sbatch(j.options, script_path, args);
        } catch (const Error& e) {
          throw StageError(std::string(e.what()) + "\n  already submitted (recorded in " + run_dir + "/state): " +
                           (submitted_log.empty() ? "nothing" : join(submitted_log, ", ")) +
                           "\n  fix the cause and submit again: queued stages are not submitted twice");
        }
        Submission rec;
        rec.job_id = j.job_id;
        rec.array = !c.tasks.empty();
        rec.offset = c.offset;
        rec.tasks = c.tasks;
        rec.fingerprint = s.fingerprint;
        rec.time = log::now_iso8601();
        rec.script = script_path;
        append_submission(run_dir, s.name, rec);
        j.submitted = true;
        j.note = "submitted";
        submitted_log.push_back(s.name + (c.tasks.empty() ? "" : "[" + jo.array + "]") + " = job " + j.job_id);
        log::event("slurm_submit", {{"stage", s.name}, {"job_id", j.job_id}, {"array", jo.array}, {"after", after}});
      }
      waits[i].push_back(j.job_id);
      jobs.push_back(std::move(j));
    }
    // Tasks still queued from an earlier submit are waited for too.
    for (const auto& id : active.job_ids) waits[i].push_back(id);
  }
  return jobs;
}

std::string describe_jobs(const std::vector<PlannedJob>& jobs, bool with_scripts) {
  std::string out;
  size_t width = 0;
  for (const auto& j : jobs) width = std::max(width, j.stage.size());
  for (const auto& j : jobs) {
    std::string line = fmt::format("  {:<{}}  ", j.stage, width);
    if (!j.submitted) {
      line += j.note;
    } else {
      line += "job " + j.job_id;
      if (!j.tasks.empty())
        line += fmt::format(" array of {} task(s) {} (offset {})", j.tasks.size(), graph::index_ranges(j.tasks), j.offset);
      line += j.after.empty() ? "" : " after " + join(j.after, ", ");
      if (j.note != "submitted") line += "  [" + j.note + "]";
    }
    out += line + "\n";
  }
  if (with_scripts) {
    std::set<std::string> shown;
    for (const auto& j : jobs) {
      if (!j.submitted) continue;
      std::vector<std::string> cmd = {"sbatch", "--parsable"};
      for (const auto& o : j.options) cmd.push_back(o);
      cmd.push_back(j.script_path);
      if (!j.tasks.empty()) cmd.push_back(std::to_string(j.offset));
      std::string quoted;
      for (const auto& w : cmd) quoted += (quoted.empty() ? "" : " ") + shell_quote(w);
      out += "\n# ---- " + j.stage + ": " + quoted + "\n";
      if (shown.insert(j.script_path).second) out += j.script_text;
    }
  }
  return out;
}

}  // namespace sg::exec
