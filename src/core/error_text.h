#pragma once
// The text of an error for a person. LibTorch's errors (c10::Error, its enforce failures) carry
// the C++ backtrace after the message ("\nException raised from <function> at <file>:<line>
// (most recent call first):\nframe #0: ..." or directly "\nframe #0: ..."): it is cut, leaving
// what failed, also when such a message was wrapped in one of ours. Other messages, our own
// multi-line ones included, are returned whole.
#include <string>

namespace sg {

std::string without_backtrace(const std::string& what);

}  // namespace sg
