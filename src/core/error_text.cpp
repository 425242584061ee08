#include "core/error_text.h"

#include <algorithm>

namespace sg {

std::string without_backtrace(const std::string& what) {
  size_t cut = std::string::npos;
  for (const char* marker : {"\nException raised from ", "\nframe #0: "}) cut = std::min(cut, what.find(marker));
  if (what.rfind("Exception raised from ", 0) == 0) cut = 0;
  std::string out = what.substr(0, cut);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out.empty() ? what.substr(0, what.find('\n')) : out;
}

}  // namespace sg
