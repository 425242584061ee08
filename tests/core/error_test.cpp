// without_backtrace: LibTorch's messages keep what failed and lose the C++ backtrace. The inputs
// are LibTorch 1.13's own texts as `shadegan train` printed them before the cut (a shape error
// from TORCH_CHECK, an allocation failure from an enforce), trimmed to their first frames.
#include "core/error_text.h"

#include <doctest/doctest.h>

TEST_CASE("a TORCH_CHECK message loses 'Exception raised from' and the frames") {
  const std::string what =
      "The size of tensor a (16) must match the size of tensor b (8) at non-singleton dimension 0\n"
      "Exception raised from infer_size_impl at ./aten/src/ATen/ExpandUtils.cpp:31 (most recent call first):\n"
      "frame #0: c10::Error::Error(c10::SourceLocation, std::string) + 0x3e (0x7f in /lib/x86_64-linux-gnu/libc10.so.1.13)\n"
      "frame #1: <unknown function> + 0x4c062 (0x7f in /lib/x86_64-linux-gnu/libc10.so.1.13)\n";
  CHECK(sg::without_backtrace(what) ==
        "The size of tensor a (16) must match the size of tensor b (8) at non-singleton dimension 0");
}

TEST_CASE("an enforce failure loses its frames, wrapped in our message it keeps the prefix") {
  const std::string what =
      "[enforce fail at alloc_cpu.cpp:75] err == 0. DefaultCPUAllocator: can't allocate memory: you tried to "
      "allocate 1200000000000 bytes. Error code 12 (Cannot allocate memory)\n"
      "frame #0: <unknown function> + 0x4c062 (0x7f397e1c4062 in /lib/x86_64-linux-gnu/libc10.so.1.13)\n"
      "frame #1: c10::ThrowEnforceNotMet(char const*, int, char const*, void const*) + 0x58 (0x7f in libc10.so.1.13)\n";
  const std::string cut = sg::without_backtrace("LPIPS weights: " + what);
  CHECK(cut.find("LPIPS weights: [enforce fail at alloc_cpu.cpp:75]") == 0);
  CHECK(cut.find("Error code 12 (Cannot allocate memory)") != std::string::npos);
  CHECK(cut.find("frame #") == std::string::npos);
  CHECK(cut.find('\n') == std::string::npos);
}

TEST_CASE("our own multi-line messages are left whole") {
  const std::string what = "sbatch failed\n  already submitted (recorded in /r/state): nothing\n  fix the cause";
  CHECK(sg::without_backtrace(what) == what);
}
