#include "train/checkpoint_layout.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/orphan_temps.h"

namespace fs = std::filesystem;

namespace sg::train {

std::string checkpoint_root(const std::string& train_dir) { return (fs::path(train_dir) / "ckpt").string(); }

std::string checkpoint_name(int64_t step) { return fmt::format("step-{:07d}", step); }

std::string checkpoint_dir(const std::string& train_dir, int64_t step) {
  return (fs::path(checkpoint_root(train_dir)) / checkpoint_name(step)).string();
}

std::string latest_path(const std::string& train_dir) { return (fs::path(train_dir) / "LATEST").string(); }

namespace {

// step-0000300 -> 300; nullopt for anything else (temporaries, stray files).
std::optional<int64_t> parse_name(const std::string& name) {
  if (name.size() < 6 || name.compare(0, 5, "step-") != 0) return std::nullopt;
  int64_t v = 0;
  for (size_t i = 5; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    v = v * 10 + (name[i] - '0');
  }
  return v;
}

std::optional<nlohmann::json> read_meta(const std::string& dir, std::string* problem) {
  const fs::path p = fs::path(dir) / "meta.json";
  if (!fs::exists(p)) {
    *problem = p.string() + ": missing (the checkpoint was not completed)";
    return std::nullopt;
  }
  try {
    nlohmann::json j = nlohmann::json::parse(read_file(p.string()));
    if (!j.contains("step") || !j.contains("files") || !j["files"].is_object()) {
      *problem = p.string() + ": expected an object with \"step\" and \"files\"";
      return std::nullopt;
    }
    return j;
  } catch (const nlohmann::json::exception& e) {
    *problem = p.string() + ": not valid JSON (" + e.what() + ")";
    return std::nullopt;
  }
}

}  // namespace

std::string checkpoint_problem(const std::string& dir, bool verify_hashes) {
  std::string problem;
  const auto meta = read_meta(dir, &problem);
  if (!meta) return problem;
  for (const auto& [name, rec] : (*meta)["files"].items()) {
    const fs::path p = fs::path(dir) / name;
    std::error_code ec;
    const auto size = fs::file_size(p, ec);
    if (ec) return p.string() + ": listed in meta.json but missing";
    if (size != rec.value("size", uint64_t(0)))
      return fmt::format("{}: {} bytes, meta.json records {} (truncated or overwritten)", p.string(),
                         size, rec.value("size", uint64_t(0)));
    if (verify_hashes && hash_file(p.string()) != rec.value("xxh3", std::string()))
      return p.string() + ": content hash differs from meta.json (corrupt)";
  }
  return "";
}

std::vector<CheckpointInfo> list_checkpoints(const std::string& train_dir, bool verify_hashes) {
  std::vector<CheckpointInfo> out;
  const fs::path root = checkpoint_root(train_dir);
  if (!fs::is_directory(root)) return out;
  for (const auto& e : fs::directory_iterator(root)) {
    if (!e.is_directory()) continue;
    std::string name = e.path().filename().string();
    // A checkpoint moved aside while the same step was being rewritten (save_checkpoint): if the
    // crash came before the new one took its name, the old one is the trusted copy of its step.
    const std::string aside = kAsidePrefix;
    if (name.rfind(aside, 0) == 0) {
      name = name.substr(aside.size());
      if (fs::exists(root / name)) continue;
    }
    const auto step = parse_name(name);
    if (!step) continue;
    const std::string dir = fs::absolute(e.path()).string();
    if (!checkpoint_problem(dir, verify_hashes).empty()) continue;
    std::string ignored;
    out.push_back({dir, *step, *read_meta(dir, &ignored)});
  }
  std::sort(out.begin(), out.end(),
            [](const CheckpointInfo& a, const CheckpointInfo& b) { return a.step < b.step; });
  return out;
}

std::optional<CheckpointInfo> find_latest_checkpoint(const std::string& train_dir, bool verify_hashes) {
  const std::string latest = latest_path(train_dir);
  if (fs::exists(latest)) {
    std::string name = read_file(latest);
    while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
    const std::string dir = fs::absolute(fs::path(checkpoint_root(train_dir)) / name).string();
    const auto step = parse_name(name);
    const std::string problem =
        step ? checkpoint_problem(dir, verify_hashes) : latest + ": expected a name like step-0000300";
    if (problem.empty()) {
      std::string ignored;
      return CheckpointInfo{dir, *step, *read_meta(dir, &ignored)};
    }
    auto all = list_checkpoints(train_dir, verify_hashes);
    if (all.empty()) {
      log::warn("checkpoint {} rejected: {}; no earlier trusted checkpoint", name, problem);
      return std::nullopt;
    }
    log::warn("checkpoint {} rejected: {}; using {} instead", name, problem,
              checkpoint_name(all.back().step));
    return all.back();
  }
  auto all = list_checkpoints(train_dir, verify_hashes);
  if (all.empty()) return std::nullopt;
  return all.back();
}

CheckpointInfo resolve_checkpoint(const std::string& path) {
  const fs::path p = fs::absolute(path);
  if (fs::exists(p / "meta.json")) {
    const std::string problem = checkpoint_problem(p.string(), true);
    if (!problem.empty()) throw IoError("checkpoint " + p.string() + ": " + problem);
    std::string ignored;
    const nlohmann::json meta = *read_meta(p.string(), &ignored);
    return {p.string(), meta.at("step").get<int64_t>(), meta};
  }
  for (const fs::path& train_dir : {p, p / "train"}) {
    if (!fs::is_directory(train_dir / "ckpt") && !fs::exists(train_dir / "LATEST")) continue;
    if (auto c = find_latest_checkpoint(train_dir.string(), true)) return *c;
    throw IoError(train_dir.string() + ": no complete checkpoint under ckpt/ (has training run?)");
  }
  throw IoError(path + ": expected a checkpoint directory (with meta.json), a train stage "
                "directory (with ckpt/ and LATEST) or a run directory (with train/)");
}

nlohmann::json describe_files(const std::string& dir) {
  nlohmann::json files = nlohmann::json::object();
  std::vector<fs::path> paths;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename() != "meta.json") paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  for (const auto& p : paths)
    files[p.filename().string()] = {{"size", fs::file_size(p)}, {"xxh3", hash_file(p.string())}};
  return files;
}

}  // namespace sg::train
