// Translation unit that carries the shared LibTorch precompiled header (see src/CMakeLists.txt).
