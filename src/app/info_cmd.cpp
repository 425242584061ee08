// shadegan info: what someone debugging a cluster install needs to see in one place.
#include <H5pubconf.h>
#include <torch/cuda.h>
#include <torch/version.h>
#include <ATen/Parallel.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "app/command.h"
#include "core/build_info.h"
#include "core/memory_limit.h"
#include "core/cpu_allocation.h"
#include "metrics/fid_inception.h"
#include "mpi/mpi.h"
#include "mpi/rank_threads.h"
#include "train/lpips.h"
#include "weights/torch_hub.h"

namespace {

// Shared libraries mapped into this process whose names say BLAS/LAPACK/oneDNN: the BLAS that
// is actually used (Debian's alternatives decide it at run time, not at build time).
std::vector<std::string> mapped_blas() {
  std::ifstream maps("/proc/self/maps");
  std::set<std::string> found;
  std::string line;
  while (std::getline(maps, line)) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    const std::string base = path.substr(path.rfind('/') + 1);
    if (base.find("blas") != std::string::npos || base.find("lapack") != std::string::npos ||
        base.find("dnnl") != std::string::npos || base.find("mkl") != std::string::npos)
      found.insert(path);
  }
  return {found.begin(), found.end()};
}

// The pretrained weights we use but never download, and where they were found: the FID
// Inception network (eval) and LPIPS-VGG's two halves (the "l1+lpips" depth loss).
nlohmann::json pretrained_weights() {
  nlohmann::json w = nlohmann::json::array();
  auto add = [&](const std::string& what, const std::string& path, const std::string& source,
                 const std::vector<std::string>& tried) {
    w.push_back({{"weights", what}, {"found", !path.empty()}, {"path", path}, {"source", source}, {"looked_in", tried}});
  };
  std::string source;
  std::vector<std::string> tried;
  std::string inception = sg::metrics::find_inception_weights(&source, &tried);
  if (!inception.empty() && !std::filesystem::is_regular_file(inception)) {
    tried.push_back(inception + " (from " + source + ", not a file)");
    inception.clear();
    source.clear();
  }
  add("FID Inception (" + sg::metrics::kInceptionWeightsFiles.front() + ")", inception, source, tried);
  const sg::train::LpipsLookup lpips = sg::train::find_lpips_weights({});
  auto add_lpips = [&](const std::string& what, const std::string& file, const std::string& path) {
    add(what + " (" + file + ")", path, path.empty() ? "" : "torch hub cache",
        {sg::weights::torch_hub_checkpoints_dir() + "/" + file});
  };
  add_lpips("LPIPS backbone", sg::train::kVggBackboneFile, lpips.files.backbone);
  add_lpips("LPIPS heads", sg::train::kLpipsHeadsFile, lpips.files.heads);
  return w;
}

int run_info(bool json) {
  sg::mpi::init();
  nlohmann::json j;
  j["version"] = SG_VERSION;
  j["commit"] = sg::source_commit();
  j["libtorch"] = TORCH_VERSION;
  j["blas_mapped"] = mapped_blas();
  bool openblas = false;
  for (const auto& p : j["blas_mapped"]) openblas = openblas || p.get<std::string>().find("openblas") != std::string::npos;
  j["blas_is_openblas"] = openblas;
  j["torch_intraop_threads"] = at::get_num_threads();
  j["hardware_threads"] = std::thread::hardware_concurrency();
  // What a stage may use here, which is what its threads come from (core/cpu_allocation.h).
  const sg::CpuLimits limits = sg::read_cpu_limits();
  const sg::ThreadChoice rank_threads = sg::mpi::rank_threads(0);
  j["cpus_allowed"] = sg::cpus_allowed(limits);
  j["cpu_affinity"] = sg::affinity_list();
  j["cgroup_cpu_quota"] = limits.cgroup_quota;
  j["threads_per_rank"] = rank_threads.threads;
  j["threads_per_rank_reason"] = rank_threads.reason;
  // What memory budgets (max_memory_gb) and the block cache are held to (core/memory_limit.h).
  const sg::MemoryAvailable memory = sg::available_memory();
  j["memory_available_mib"] = std::isfinite(memory.bytes) ? int64_t(memory.bytes / (1 << 20)) : -1;
  j["memory_available_source"] = memory.source;
  j["mpi_rank"] = sg::mpi::rank();
  j["mpi_size"] = sg::mpi::size();
  j["mpi_library"] = sg::mpi::library_version();
  j["host"] = sg::mpi::processor_name();
#ifdef H5_HAVE_PARALLEL
  j["hdf5_parallel"] = true;
#else
  j["hdf5_parallel"] = false;
#endif
  j["hdf5_version"] = H5_VERSION;
  j["cuda_available"] = torch::cuda::is_available();
  j["cuda_devices"] = torch::cuda::device_count();
  j["torch_hub_checkpoints"] = sg::weights::torch_hub_checkpoints_dir();
  j["pretrained_weights"] = pretrained_weights();
  if (sg::mpi::rank() != 0) return 0;
  if (json) {
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("shadegan          %s\n", SG_VERSION);
  std::printf("source commit     %s\n", sg::source_commit());
  std::printf("LibTorch          %s\n", TORCH_VERSION);
  std::printf("BLAS mapped       %s\n", j["blas_mapped"].empty() ? "(none)" : "");
  for (const auto& p : j["blas_mapped"]) std::printf("                  %s\n", p.get<std::string>().c_str());
  if (!openblas)
    std::printf("                  warning: not OpenBLAS; LibTorch is ~8x slower with netlib BLAS "
                "(apt-get install libopenblas0-pthread)\n");
  std::printf("threads           %d intra-op (torch), %u hardware\n", at::get_num_threads(),
              std::thread::hardware_concurrency());
  std::printf("cpus allowed      %d (affinity %s, %s)\n", j["cpus_allowed"].get<int>(),
              j["cpu_affinity"].get<std::string>().c_str(),
              limits.cgroup_quota > 0 ? fmt::format("cgroup quota {:g} CPUs", limits.cgroup_quota).c_str()
                                      : "no cgroup quota");
  std::printf("threads per rank  %d (%s)\n", rank_threads.threads, rank_threads.reason.c_str());
  if (std::isfinite(memory.bytes))
    std::printf("memory available  %lld MiB (%s)\n", static_cast<long long>(memory.bytes / (1 << 20)), memory.source.c_str());
  else
    std::printf("memory available  unknown (no /proc/meminfo, no cgroup limit)\n");
  std::printf("MPI               rank %d of %d on %s\n", sg::mpi::rank(), sg::mpi::size(),
              j["host"].get<std::string>().c_str());
  std::printf("MPI library       %s\n", j["mpi_library"].get<std::string>().substr(0, 60).c_str());
  std::printf("HDF5              %s, %s\n", H5_VERSION, j["hdf5_parallel"].get<bool>() ? "parallel" : "serial");
  std::printf("CUDA              %s (%d devices)\n", j["cuda_available"].get<bool>() ? "available" : "not available",
              static_cast<int>(torch::cuda::device_count()));
  // A file found is what a stage would use when not named; "missing" says where we looked.
  std::printf("weights cache     %s (TORCH_HOME; never downloaded into)\n", j["torch_hub_checkpoints"].get<std::string>().c_str());
  int width = 0;
  for (const auto& w : j["pretrained_weights"]) width = std::max(width, int(w["weights"].get<std::string>().size()));
  for (const auto& w : j["pretrained_weights"]) {
    const std::string what = w["weights"].get<std::string>();
    if (w["found"].get<bool>()) {
      std::printf("  %-*s found: %s (%s)\n", width, what.c_str(), w["path"].get<std::string>().c_str(),
                  w["source"].get<std::string>().c_str());
    } else {
      std::string looked;
      for (const auto& t : w["looked_in"]) looked += (looked.empty() ? "" : ", ") + t.get<std::string>();
      std::printf("  %-*s missing (looked for %s)\n", width, what.c_str(), looked.c_str());
    }
  }
  return 0;
}

const bool registered = sg::app::register_command(
    {"info", "Print versions, the BLAS actually mapped, threads, MPI, HDF5, CUDA status and the pretrained weights found",
     [](CLI::App& sub) -> sg::app::Runner {
       auto json = std::make_shared<bool>(false);
       sub.add_flag("--json", *json, "Print as JSON");
       return [json] { return run_info(*json); };
     }});

}  // namespace
