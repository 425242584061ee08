#pragma once
// Files that are either wholly there or not there: everything that matters is written to a
// temporary name in the same directory, fsynced, renamed into place, and the directory fsynced,
// so a kill -9 or a power cut at any moment leaves the previous version or the new one.
#include <string>
#include <string_view>

namespace sg {

// Write `content` to `path` atomically (parent directories are created).
void write_file_atomic(const std::string& path, std::string_view content);

// A temporary name beside `path` for a writer that produces the file itself (e.g. HDF5):
// "<dir>/.<name>.tmp-<pid>". Pair it with commit_file().
std::string temp_path_for(const std::string& path);
// fsync `tmp`, rename it to `path`, fsync the directory.
void commit_file(const std::string& tmp, const std::string& path);
// Rename a finished directory into place (the target must not exist) and fsync the parent.
void commit_dir(const std::string& tmp_dir, const std::string& dir);

void fsync_path(const std::string& path);

// Whole file as bytes; IoError naming the path when it cannot be read.
std::string read_file(const std::string& path);

void create_dirs(const std::string& path);

}  // namespace sg
