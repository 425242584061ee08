#include "data/hdf5.h"

#include <hdf5.h>

#include <filesystem>
#include <mutex>

namespace sg::data::h5 {
namespace {

// HDF5 prints its error stack to stderr by default; we turn that off once and put the innermost
// message into the exception instead.
void quiet_errors() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

herr_t walk_cb(unsigned n, const H5E_error2_t* e, void* out) {
  auto* s = static_cast<std::string*>(out);
  if (e->desc && *e->desc) *s = e->desc;  // keep the innermost (last walked from the top)
  return 0;
}

std::string stack_message() {
  std::string msg;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, &msg);
  H5Eclear2(H5E_DEFAULT);
  return msg.empty() ? "unknown HDF5 error" : msg;
}

[[noreturn]] void fail(const std::string& what, const std::string& where) {
  throw Hdf5Error("HDF5 " + what + " failed for " + where + ": " + stack_message());
}

hid_t check_id(hid_t id, const char* what, const std::string& where) {
  if (id < 0) fail(what, where);
  return id;
}

void check(herr_t rc, const char* what, const std::string& where) {
  if (rc < 0) fail(what, where);
}

hid_t native(Type t) {
  switch (t) {
    case Type::u8: return H5T_NATIVE_UINT8;
    case Type::i64: return H5T_NATIVE_INT64;
    case Type::f32: return H5T_NATIVE_FLOAT;
    case Type::f64: return H5T_NATIVE_DOUBLE;
  }
  return H5T_NATIVE_UINT8;
}

// Little-endian file types, so files are the same on every machine.
hid_t file_type(Type t) {
  switch (t) {
    case Type::u8: return H5T_STD_U8LE;
    case Type::i64: return H5T_STD_I64LE;
    case Type::f32: return H5T_IEEE_F32LE;
    case Type::f64: return H5T_IEEE_F64LE;
  }
  return H5T_STD_U8LE;
}

Type type_of(hid_t dtype, const std::string& where) {
  const H5T_class_t cls = H5Tget_class(dtype);
  const size_t size = H5Tget_size(dtype);
  if (cls == H5T_INTEGER && size == 1) return Type::u8;
  if (cls == H5T_INTEGER && size == 8) return Type::i64;
  if (cls == H5T_FLOAT && size == 4) return Type::f32;
  if (cls == H5T_FLOAT && size == 8) return Type::f64;
  throw Hdf5Error("unsupported element type in " + where +
                  " (expected uint8, int64, float32 or float64)");
}

int close_file(int64_t id) { return H5Fclose(id); }
int close_dataset(int64_t id) { return H5Dclose(id); }
int close_space(int64_t id) { return H5Sclose(id); }
int close_plist(int64_t id) { return H5Pclose(id); }
int close_attr(int64_t id) { return H5Aclose(id); }
int close_type(int64_t id) { return H5Tclose(id); }

Handle space_of(const std::vector<int64_t>& dims, const std::string& where) {
  std::vector<hsize_t> d(dims.begin(), dims.end());
  return Handle(check_id(H5Screate_simple(static_cast<int>(d.size()), d.data(), nullptr),
                         "Screate_simple", where),
                close_space);
}

// Selects rows [first, first+count) of a dataset's file space.
Handle select_rows(hid_t dset, const std::vector<int64_t>& dims, int64_t first, int64_t count,
                   const std::string& where) {
  if (first < 0 || count < 0 || first + count > dims.at(0))
    throw Hdf5Error("rows " + std::to_string(first) + ".." + std::to_string(first + count) +
                    " out of range (" + std::to_string(dims.at(0)) + " rows) in " + where);
  Handle fs(check_id(H5Dget_space(dset), "Dget_space", where), close_space);
  std::vector<hsize_t> start(dims.size(), 0), cnt(dims.begin(), dims.end());
  start[0] = static_cast<hsize_t>(first);
  cnt[0] = static_cast<hsize_t>(count);
  check(H5Sselect_hyperslab(fs.id(), H5S_SELECT_SET, start.data(), nullptr, cnt.data(), nullptr),
        "Sselect_hyperslab", where);
  return fs;
}

// What reading or writing rows [first, first+count) needs: the selected file space and a memory
// space of exactly those rows.
struct RowSpaces {
  Handle file, mem;
};
RowSpaces row_spaces(hid_t dset, const std::vector<int64_t>& dims, int64_t first, int64_t count,
                     const std::string& where) {
  Handle file = select_rows(dset, dims, first, count, where);
  std::vector<int64_t> md = dims;
  md[0] = count;
  return {std::move(file), space_of(md, where)};
}

}  // namespace

size_t type_size(Type t) {
  switch (t) {
    case Type::u8: return 1;
    case Type::i64: return 8;
    case Type::f32: return 4;
    case Type::f64: return 8;
  }
  return 1;
}

const char* type_name(Type t) {
  switch (t) {
    case Type::u8: return "uint8";
    case Type::i64: return "int64";
    case Type::f32: return "float32";
    case Type::f64: return "float64";
  }
  return "?";
}

Handle& Handle::operator=(Handle&& o) noexcept {
  if (this != &o) {
    reset();
    id_ = o.id_;
    close_ = o.close_;
    o.id_ = -1;
  }
  return *this;
}

void Handle::reset() {
  if (id_ >= 0 && close_) close_(id_);
  id_ = -1;
}

File File::create(const std::string& path, int64_t alignment) {
  quiet_errors();
  const std::string where = "'" + path + "'";
  // Track no times anywhere, so a file's bytes depend only on its content.
  Handle fcpl(check_id(H5Pcreate(H5P_FILE_CREATE), "Pcreate", where), close_plist);
  check(H5Pset_obj_track_times(fcpl.id(), 0), "Pset_obj_track_times", where);
  Handle fapl(check_id(H5Pcreate(H5P_FILE_ACCESS), "Pcreate", where), close_plist);
  if (alignment > 0)
    check(H5Pset_alignment(fapl.id(), static_cast<hsize_t>(alignment), static_cast<hsize_t>(alignment)),
          "Pset_alignment", where);
  File f;
  f.path_ = path;
  f.h_ = Handle(check_id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.id(), fapl.id()), "Fcreate", where),
                close_file);
  return f;
}

File File::open_read(const std::string& path) {
  quiet_errors();
  const std::string where = "'" + path + "'";
  if (!std::filesystem::exists(path)) throw Hdf5Error("no such HDF5 file " + where);
  File f;
  f.path_ = path;
  f.h_ = Handle(check_id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "Fopen", where),
                close_file);
  return f;
}

Dataset File::create_dataset(const std::string& name, Type type, const std::vector<int64_t>& dims,
                             int deflate) {
  const std::string where = "'" + path_ + "' dataset '" + name + "'";
  Handle space = space_of(dims, where);
  Handle dcpl(check_id(H5Pcreate(H5P_DATASET_CREATE), "Pcreate", where), close_plist);
  check(H5Pset_obj_track_times(dcpl.id(), 0), "Pset_obj_track_times", where);
  if (!dims.empty() && dims[0] > 0) {
    std::vector<hsize_t> chunk(dims.begin(), dims.end());
    chunk[0] = 1;
    check(H5Pset_chunk(dcpl.id(), static_cast<int>(chunk.size()), chunk.data()), "Pset_chunk",
          where);
    if (deflate > 0) {
      check(H5Pset_shuffle(dcpl.id()), "Pset_shuffle", where);
      check(H5Pset_deflate(dcpl.id(), static_cast<unsigned>(deflate)), "Pset_deflate", where);
    }
  }
  Handle d(check_id(H5Dcreate2(h_.id(), name.c_str(), file_type(type), space.id(), H5P_DEFAULT,
                               dcpl.id(), H5P_DEFAULT),
                    "Dcreate2", where),
           close_dataset);
  return Dataset(path_, name, std::move(d), type, dims);
}

Dataset File::create_contiguous(const std::string& name, Type type, const std::vector<int64_t>& dims) {
  const std::string where = "'" + path_ + "' dataset '" + name + "'";
  Handle space = space_of(dims, where);
  Handle dcpl(check_id(H5Pcreate(H5P_DATASET_CREATE), "Pcreate", where), close_plist);
  check(H5Pset_obj_track_times(dcpl.id(), 0), "Pset_obj_track_times", where);
  check(H5Pset_layout(dcpl.id(), H5D_CONTIGUOUS), "Pset_layout", where);
  // Allocated at creation, so its offset is known before any write; never filled, so HDF5
  // writes nothing there that the caller will overwrite anyway.
  check(H5Pset_alloc_time(dcpl.id(), H5D_ALLOC_TIME_EARLY), "Pset_alloc_time", where);
  check(H5Pset_fill_time(dcpl.id(), H5D_FILL_TIME_NEVER), "Pset_fill_time", where);
  Handle d(check_id(H5Dcreate2(h_.id(), name.c_str(), file_type(type), space.id(), H5P_DEFAULT, dcpl.id(),
                               H5P_DEFAULT),
                    "Dcreate2", where),
           close_dataset);
  return Dataset(path_, name, std::move(d), type, dims);
}

bool File::has(const std::string& name) const {
  const std::string where = "'" + path_ + "' link '" + name + "'";
  const htri_t r = H5Lexists(h_.id(), name.c_str(), H5P_DEFAULT);
  if (r < 0) fail("Lexists", where);
  return r > 0;
}

Dataset File::open_dataset(const std::string& name) const {
  const std::string where = "'" + path_ + "' dataset '" + name + "'";
  if (!has(name)) throw Hdf5Error("no dataset '" + name + "' in '" + path_ + "'");
  Handle d(check_id(H5Dopen2(h_.id(), name.c_str(), H5P_DEFAULT), "Dopen2", where), close_dataset);
  Handle space(check_id(H5Dget_space(d.id()), "Dget_space", where), close_space);
  const int rank = H5Sget_simple_extent_ndims(space.id());
  if (rank < 0) fail("Sget_simple_extent_ndims", where);
  std::vector<hsize_t> hd(static_cast<size_t>(rank));
  if (H5Sget_simple_extent_dims(space.id(), hd.data(), nullptr) < 0)
    fail("Sget_simple_extent_dims", where);
  Handle dtype(check_id(H5Dget_type(d.id()), "Dget_type", where), close_type);
  const Type t = type_of(dtype.id(), where);
  return Dataset(path_, name, std::move(d), t, std::vector<int64_t>(hd.begin(), hd.end()));
}

static Handle create_attr(hid_t obj, const std::string& name, hid_t type, hid_t space,
                          const std::string& where) {
  if (H5Aexists(obj, name.c_str()) > 0) check(H5Adelete(obj, name.c_str()), "Adelete", where);
  return Handle(check_id(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT),
                         "Acreate2", where),
                close_attr);
}

void File::set_attr(const std::string& name, const std::string& value) {
  const std::string where = "'" + path_ + "' attribute '" + name + "'";
  Handle type(check_id(H5Tcopy(H5T_C_S1), "Tcopy", where), close_type);
  check(H5Tset_size(type.id(), std::max<size_t>(1, value.size())), "Tset_size", where);
  check(H5Tset_strpad(type.id(), H5T_STR_NULLPAD), "Tset_strpad", where);
  Handle space(check_id(H5Screate(H5S_SCALAR), "Screate", where), close_space);
  Handle a = create_attr(h_.id(), name, type.id(), space.id(), where);
  const std::string padded = value.empty() ? std::string(1, '\0') : value;
  check(H5Awrite(a.id(), type.id(), padded.data()), "Awrite", where);
}

void File::set_attr(const std::string& name, int64_t value) {
  set_attr(name, std::vector<int64_t>{value});
}

void File::set_attr(const std::string& name, const std::vector<int64_t>& value) {
  const std::string where = "'" + path_ + "' attribute '" + name + "'";
  Handle space = value.size() == 1
                     ? Handle(check_id(H5Screate(H5S_SCALAR), "Screate", where), close_space)
                     : space_of({static_cast<int64_t>(value.size())}, where);
  Handle a = create_attr(h_.id(), name, H5T_STD_I64LE, space.id(), where);
  check(H5Awrite(a.id(), H5T_NATIVE_INT64, value.data()), "Awrite", where);
}

bool File::has_attr(const std::string& name) const {
  const htri_t r = H5Aexists(h_.id(), name.c_str());
  if (r < 0) fail("Aexists", "'" + path_ + "' attribute '" + name + "'");
  return r > 0;
}

// An existing attribute, opened; Hdf5Error naming the file when it is absent.
static Handle open_attr(hid_t obj, const std::string& path, const std::string& name,
                        const std::string& where) {
  const htri_t r = H5Aexists(obj, name.c_str());
  if (r < 0) fail("Aexists", where);
  if (r == 0) throw Hdf5Error("missing attribute '" + name + "' in '" + path + "'");
  return Handle(check_id(H5Aopen(obj, name.c_str(), H5P_DEFAULT), "Aopen", where), close_attr);
}

std::string File::attr_string(const std::string& name) const {
  const std::string where = "'" + path_ + "' attribute '" + name + "'";
  Handle a = open_attr(h_.id(), path_, name, where);
  Handle type(check_id(H5Aget_type(a.id()), "Aget_type", where), close_type);
  if (H5Tget_class(type.id()) != H5T_STRING) throw Hdf5Error(where + " is not a string");
  if (H5Tis_variable_str(type.id()) > 0) throw Hdf5Error(where + " is a variable-length string");
  const size_t n = H5Tget_size(type.id());
  std::string s(n, '\0');
  check(H5Aread(a.id(), type.id(), s.data()), "Aread", where);
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

std::vector<int64_t> File::attr_ints(const std::string& name) const {
  const std::string where = "'" + path_ + "' attribute '" + name + "'";
  Handle a = open_attr(h_.id(), path_, name, where);
  Handle space(check_id(H5Aget_space(a.id()), "Aget_space", where), close_space);
  const hssize_t n = H5Sget_simple_extent_npoints(space.id());
  if (n < 0) fail("Sget_simple_extent_npoints", where);
  std::vector<int64_t> v(static_cast<size_t>(n));
  check(H5Aread(a.id(), H5T_NATIVE_INT64, v.data()), "Aread", where);
  return v;
}

int64_t File::attr_int(const std::string& name) const {
  const auto v = attr_ints(name);
  if (v.size() != 1) throw Hdf5Error("attribute '" + name + "' in '" + path_ + "' is not a scalar");
  return v[0];
}

void File::flush() {
  check(H5Fflush(h_.id(), H5F_SCOPE_GLOBAL), "Fflush", "'" + path_ + "'");
}

void File::close() {
  if (!h_.valid()) return;
  // Closed through the checked path, so a failing final write (a full disk) is an error.
  if (H5Fclose(h_.release()) < 0) fail("Fclose", "'" + path_ + "'");
}

int64_t Dataset::row_elements() const {
  int64_t n = 1;
  for (size_t i = 1; i < dims_.size(); ++i) n *= dims_[i];
  return n;
}

int64_t Dataset::bytes() const {
  int64_t n = static_cast<int64_t>(type_size(type_));
  for (int64_t d : dims_) n *= d;
  return n;
}

int64_t Dataset::offset() const {
  if (bytes() == 0) return -1;
  const haddr_t a = H5Dget_offset(h_.id());
  // HADDR_UNDEF is also what a chunked dataset gives: only a contiguous one is one block.
  if (a == HADDR_UNDEF) fail("Dget_offset (a contiguous dataset with storage)", where());
  return static_cast<int64_t>(a);
}

void Dataset::write_rows(int64_t first, int64_t count, const void* data) {
  if (count == 0) return;
  const std::string w = where();
  const RowSpaces s = row_spaces(h_.id(), dims_, first, count, w);
  check(H5Dwrite(h_.id(), native(type_), s.mem.id(), s.file.id(), H5P_DEFAULT, data), "Dwrite", w);
}

void Dataset::read_rows(int64_t first, int64_t count, void* data) const {
  if (count == 0) return;
  const std::string w = where();
  const RowSpaces s = row_spaces(h_.id(), dims_, first, count, w);
  check(H5Dread(h_.id(), native(type_), s.mem.id(), s.file.id(), H5P_DEFAULT, data), "Dread", w);
}

std::vector<double> Dataset::read_all_f64() const {
  int64_t n = 1;
  for (int64_t d : dims_) n *= d;
  std::vector<double> v(static_cast<size_t>(n));
  if (n > 0) check(H5Dread(h_.id(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "Dread", where());
  return v;
}

}  // namespace sg::data::h5
