#pragma once
// Small text helpers shared by error messages.
#include <string>
#include <vector>

namespace sg {

std::string join(const std::vector<std::string>& items, const std::string& sep);
// The candidate closest to `name` by edit distance, or "" when nothing is reasonably close.
std::string closest_match(const std::string& name, const std::vector<std::string>& candidates);
// "unknown X 'name' (did you mean 'y'?); valid: a, b, c" — the one message for any name that
// matches nothing.
std::string unknown_name_message(const std::string& what, const std::string& name,
                                 const std::vector<std::string>& valid);
// File names are bytes, JSON strings must be UTF-8 (nlohmann::json throws on anything else):
// `s` with every byte that is not part of a valid UTF-8 sequence written as \xNN (upper-case
// hex) and the backslash itself as \x5C, so the result is valid UTF-8 and the original bytes can
// be recovered. Valid names without a backslash are unchanged.
std::string escape_non_utf8(const std::string& s);
// Quote for a POSIX shell: the result is one word whose value is exactly `s`.
std::string shell_quote(const std::string& s);

}  // namespace sg
