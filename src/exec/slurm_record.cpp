#include "exec/slurm_record.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "core/error.h"
#include "core/json_file.h"
#include "graph/state_store.h"

namespace fs = std::filesystem;

namespace sg::exec {

std::string slurm_record_path(const std::string& run_dir, const std::string& stage) {
  return graph::state_dir(run_dir) + "/" + stage + ".slurm.json";
}

std::vector<Submission> read_submissions(const std::string& run_dir, const std::string& stage) {
  const std::string path = slurm_record_path(run_dir, stage);
  std::vector<Submission> out;
  std::error_code ec;
  if (!fs::exists(path, ec)) return out;
  const nlohmann::json j = read_json(path);
  try {
    for (const auto& e : j.at("submissions")) {
      Submission s;
      s.job_id = e.at("job_id").get<std::string>();
      s.array = e.value("array", false);
      s.offset = e.value("offset", 0);
      s.tasks = e.value("tasks", std::vector<int>{});
      s.fingerprint = e.value("fingerprint", "");
      s.time = e.value("time", "");
      s.script = e.value("script", "");
      out.push_back(std::move(s));
    }
  } catch (const nlohmann::json::exception& e) {
    throw FormatError("'" + path + "' is not a Slurm submission record: " + e.what());
  }
  return out;
}

void append_submission(const std::string& run_dir, const std::string& stage, const Submission& s) {
  auto subs = read_submissions(run_dir, stage);
  subs.push_back(s);
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& e : subs)
    arr.push_back({{"job_id", e.job_id}, {"array", e.array}, {"offset", e.offset}, {"tasks", e.tasks},
                   {"fingerprint", e.fingerprint}, {"time", e.time}, {"script", e.script}});
  write_json_atomic(slurm_record_path(run_dir, stage), {{"stage", stage}, {"submissions", arr}});
}

ActiveJobs active_jobs(const std::vector<Submission>& subs, const std::vector<QueuedJob>& queue,
                       const std::string& fingerprint) {
  // Index the queue once: plain jobs by id, array elements by array id.
  std::map<std::string, const QueuedJob*> plain;
  std::map<std::string, std::vector<const QueuedJob*>> arrays;
  for (const auto& q : queue) {
    // A job whose dependency failed never runs: it is not "queued" in any useful sense.
    if (q.reason == "DependencyNeverSatisfied") continue;
    if (q.array_job_id.empty()) plain[q.job_id] = &q;
    else arrays[q.array_job_id].push_back(&q);
  }
  ActiveJobs a;
  std::set<int> tasks;
  std::set<std::string> states;
  auto note = [&](const QueuedJob& q) {
    if (q.state == "RUNNING" || q.state == "COMPLETING") a.running = true;
    states.insert(q.state == "PENDING" && !q.reason.empty() && q.reason != "None" ? q.state + " (" + q.reason + ")"
                                                                                 : q.state);
  };
  for (const auto& s : subs) {
    if (!fingerprint.empty() && s.fingerprint != fingerprint) continue;
    if (!s.array) {
      if (auto it = plain.find(s.job_id); it != plain.end()) {
        a.whole_stage = true;
        a.job_ids.push_back(s.job_id);
        note(*it->second);
      }
      continue;
    }
    auto it = arrays.find(s.job_id);
    if (it == arrays.end()) {
      // A one-element array that has started may be listed as a plain job with its own id.
      if (auto p = plain.find(s.job_id); p != plain.end()) {
        a.job_ids.push_back(s.job_id);
        for (int t : s.tasks) tasks.insert(t);
        note(*p->second);
      }
      continue;
    }
    a.job_ids.push_back(s.job_id);
    for (const QueuedJob* q : it->second) {
      if (q->array_task >= 0) tasks.insert(s.offset + q->array_task);
      else for (int t : s.tasks) tasks.insert(t);
      note(*q);
    }
  }
  a.tasks.assign(tasks.begin(), tasks.end());
  for (const auto& st : states) a.detail += (a.detail.empty() ? "" : ", ") + st;
  return a;
}

}  // namespace sg::exec
