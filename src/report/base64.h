#pragma once
// Standard base64 (RFC 4648, with padding), for images embedded in the HTML report.
#include <string>
#include <string_view>

namespace sg::report {

std::string base64_encode(std::string_view bytes);

}  // namespace sg::report
