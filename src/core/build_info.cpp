#include "core/build_info.h"

#ifndef SG_VERSION
#define SG_VERSION "unknown"
#endif
#ifndef SG_COMMIT
#define SG_COMMIT "unknown"
#endif

namespace sg {

const char* program_version() { return SG_VERSION; }
const char* source_commit() { return SG_COMMIT; }

nlohmann::json program_json() { return {{"version", program_version()}, {"commit", source_commit()}}; }

}  // namespace sg
