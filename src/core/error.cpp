#include "core/error.h"

#include <cerrno>
#include <cstring>

namespace sg {

void throw_errno(const std::string& what, const std::string& path) {
  const int e = errno;
  throw IoError(what + " '" + path + "': " + std::strerror(e));
}

}  // namespace sg
