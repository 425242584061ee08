#pragma once
// The one wrapper around the HDF5 C library: every H5* call the project makes is in hdf5.cpp,
// checks its return code there and throws Hdf5Error naming the file and the object. Handles are
// RAII (closed exactly once). Files are opened with the default (POSIX, serial) driver: each
// MPI rank writes whole shard files of its own, which keeps shards byte-identical whatever the
// number of ranks and needs no collective I/O.
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"

namespace sg::data::h5 {

struct Hdf5Error : IoError {
  explicit Hdf5Error(const std::string& what) : IoError(what) {}
};

enum class Type { u8, i64, f32, f64 };

// An owned hid_t with its close function; move-only.
class Handle {
 public:
  Handle() = default;
  Handle(int64_t id, int (*close)(int64_t)) : id_(id), close_(close) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  Handle& operator=(Handle&& o) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  int64_t id() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();
  int64_t release() {
    const int64_t id = id_;
    id_ = -1;
    return id;
  }

 private:
  int64_t id_ = -1;
  int (*close_)(int64_t) = nullptr;
};

class Dataset;

class File {
 public:
  // Creates (truncating) a file for writing. With `alignment` > 0, every allocation of at least
  // that many bytes (the raw data of a large dataset) starts at a multiple of it in the file, so
  // it can be filled by page-aligned writes past the page cache (core/region_writer.h).
  static File create(const std::string& path, int64_t alignment = 0);
  static File open_read(const std::string& path);
  const std::string& path() const { return path_; }

  // A chunked dataset of `dims`, one chunk per leading index (one image), deflate level
  // `deflate` (0 = none); creation times are not tracked, so identical content gives identical
  // bytes.
  Dataset create_dataset(const std::string& name, Type type, const std::vector<int64_t>& dims,
                         int deflate = 4);
  // A contiguous dataset whose space is allocated now and never filled by HDF5 (no fill value
  // written): its rows are one block at Dataset::offset(), written with write_rows or by the
  // caller straight into the file once it is closed. Creation times are not tracked.
  Dataset create_contiguous(const std::string& name, Type type, const std::vector<int64_t>& dims);
  Dataset open_dataset(const std::string& name) const;
  bool has(const std::string& name) const;

  void set_attr(const std::string& name, const std::string& value);
  void set_attr(const std::string& name, int64_t value);
  void set_attr(const std::string& name, const std::vector<int64_t>& value);
  std::string attr_string(const std::string& name) const;
  int64_t attr_int(const std::string& name) const;
  std::vector<int64_t> attr_ints(const std::string& name) const;
  bool has_attr(const std::string& name) const;
  void flush();
  void close();

 private:
  std::string path_;
  Handle h_;
};

class Dataset {
 public:
  Dataset(std::string file, std::string name, Handle h, Type type, std::vector<int64_t> dims)
      : file_(std::move(file)), name_(std::move(name)), h_(std::move(h)), type_(type),
        dims_(std::move(dims)) {}
  const std::vector<int64_t>& dims() const { return dims_; }
  Type type() const { return type_; }
  // Rows [first, first+count) along the leading dimension, from/to a contiguous buffer of the
  // dataset's element type.
  void write_rows(int64_t first, int64_t count, const void* data);
  void read_rows(int64_t first, int64_t count, void* data) const;
  int64_t row_elements() const;  // elements per leading index
  int64_t bytes() const;         // every element: dims' product times the type's size
  // Where a contiguous dataset's data starts in the file (H5Dget_offset); -1 when it has no
  // storage (no elements). Hdf5Error for a chunked dataset.
  int64_t offset() const;
  // Every element, whatever the rank (scalars included), converted to double by HDF5: exact for
  // float32, float64 and integers below 2^53. For reading fixtures whose layout is documented
  // rather than fixed.
  std::vector<double> read_all_f64() const;

 private:
  std::string where() const { return "'" + file_ + "' dataset '" + name_ + "'"; }
  std::string file_, name_;
  Handle h_;
  Type type_;
  std::vector<int64_t> dims_;
};

size_t type_size(Type t);
const char* type_name(Type t);  // numpy's names: uint8, int64, float32, float64

}  // namespace sg::data::h5
