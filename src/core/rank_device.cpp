#include "core/rank_device.h"

#include <cerrno>
#include <cstdlib>

namespace sg {

namespace {
int index_or(const char* value, int fallback) {
  if (!value || !*value) return fallback;
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(value, &end, 10);
  if (errno || *end || v < 0 || v > 1 << 20) return fallback;
  return static_cast<int>(v);
}
}  // namespace

int local_rank_from(const char* ompi_local_rank, const char* slurm_localid) {
  return index_or(ompi_local_rank, index_or(slurm_localid, 0));
}

int local_rank() { return local_rank_from(std::getenv("OMPI_COMM_WORLD_LOCAL_RANK"), std::getenv("SLURM_LOCALID")); }

std::string rank_device(const std::string& device, int local_rank, int device_count) {
  if (device != "cuda" || device_count < 1) return device;
  return "cuda:" + std::to_string((local_rank < 0 ? 0 : local_rank) % device_count);
}

}  // namespace sg
