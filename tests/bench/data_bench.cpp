// Benchmark of sharding and the loader (not part of the test suite; run tests/bench/data_bench.sh).
//   data_bench gen DIR N SIZE          N procedural SIZE-px JPEGs (quality 90)
//   data_bench decode DIR              read + decode every *.jpg once, one process: img/s and
//                                      CPU ms per image
//   data_bench decode DIR mpi          (under mpirun) the same split between the ranks (rank r
//                                      takes every size-th file from r): what the machine gives
//                                      two processes that do nothing but decode, the ceiling of
//                                      sharding on as many ranks
//   data_bench shard DIR OUT SIZE [DEFLATE]  (under mpirun) run_sharding with a SIZE-crop recipe
//                                      at zlib level DEFLATE (default: ShardOptions'): img/s and
//                                      CPU ms per image (all ranks and threads)
//   data_bench loader DIR SHARDS B S N loader batches/s vs decoding B JPEGs + resize every step
//   data_bench profile DIR SIZE OUT    CPU ms per image of each sharding step (read + decode +
//                                      recipe; storing a shard of 100 the v1 way, chunked through
//                                      the page cache at deflate 1 and 0, and the v2 way)
#include <malloc.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <string>

#include "core/atomic_file.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/region_writer.h"
#include "data/codec.h"
#include "data/hdf5.h"
#include "data/shard_source.h"
#include "data/loader.h"
#include "data/rng.h"
#include "data/sharder.h"
#include "mpi/mpi.h"

using namespace sg::data;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

static double secs(Clock::time_point a) { return std::chrono::duration<double>(Clock::now() - a).count(); }

// CPU seconds of this process so far, every thread (user + system).
static double cpu_secs() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

static std::vector<std::string> jpgs(const std::string& dir) {
  std::vector<std::string> v;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".jpg") v.push_back(e.path().string());
  std::sort(v.begin(), v.end());
  return v;
}

// Smooth colour fields plus texture noise: compresses and decodes like a photo, not like a flat card.
static Image procedural(int size, uint64_t i) {
  Rng rng(42, i, 0);
  Image img(size, size);
  double f[3][4];
  for (auto& c : f)
    for (auto& v : c) v = rng.uniform(0.5, 6.0);
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x)
      for (int c = 0; c < 3; ++c) {
        const double u = double(x) / size, w = double(y) / size;
        const double v = 0.5 + 0.25 * std::sin(f[c][0] * u * 6.28 + f[c][1]) * std::cos(f[c][2] * w * 6.28 + f[c][3]) +
                         0.08 * (rng.uniform() - 0.5);
        img.px(x, y)[c] = static_cast<uint8_t>(std::clamp(v, 0.0, 1.0) * 255);
      }
  return img;
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  const std::string mode = argv[1];
  if (mode == "gen") {
    const int n = std::stoi(argv[3]), size = std::stoi(argv[4]);
    for (int i = 0; i < n; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "/%06d.jpg", i);
      sg::write_file_atomic(argv[2] + std::string(name), encode_jpeg(procedural(size, i), 90));
    }
    return 0;
  }
  if (mode == "decode" && argc > 3 && std::string(argv[3]) == "mpi") {
    sg::mpi::init();
    const auto files = jpgs(argv[2]);
    const int rank = sg::mpi::rank(), size = sg::mpi::size();
    sg::mpi::barrier();
    const double c0 = cpu_secs();
    const auto t0 = Clock::now();
    size_t px = 0;
    for (size_t i = static_cast<size_t>(rank); i < files.size(); i += static_cast<size_t>(size))
      px += decode_image(sg::read_file(files[i])).image.rgb.size();
    // The first rank done sleeps in the vote, as the sharder's ranks do, rather than polling.
    (void)sg::mpi::vote_or(false);
    const double rate = files.size() / secs(t0);
    double cpu = cpu_secs() - c0;
    sg::mpi::allreduce_sum(&cpu, 1);
    if (rank == 0) std::printf("%.1f %.4f\n", rate, 1e3 * cpu / files.size());
    return px == 0;
  }
  if (mode == "decode") {
    const auto files = jpgs(argv[2]);
    const double c0 = cpu_secs();
    const auto t0 = Clock::now();
    size_t px = 0;
    for (const auto& f : files) px += decode_image(sg::read_file(f)).image.rgb.size();
    std::printf("%.1f %.4f\n", files.size() / secs(t0), 1e3 * (cpu_secs() - c0) / files.size());
    return px == 0;
  }
  if (mode == "shard") {
    sg::mpi::init();
    sg::log::set_level(sg::log::Level::warn);
    Recipe r;
    r.name = "bench";
    r.pattern = "*.jpg";
    r.flip = "before_resize";
    r.steps = {{"center_crop", std::stoi(argv[4]), ""}};
    const ShardSource src = files_source(argv[2], r);
    ShardOptions opt;
    opt.out_dir = argv[3];
    opt.shard_size = 100;
    if (argc > 5) opt.deflate = std::stoi(argv[5]);
    sg::mpi::barrier();
    const double c0 = cpu_secs();
    const auto t0 = Clock::now();
    const auto m = run_sharding(src, opt);
    sg::mpi::barrier();
    const double rate = m["count"].get<double>() / secs(t0);
    double cpu = cpu_secs() - c0;  // every rank's, writer threads included
    sg::mpi::allreduce_sum(&cpu, 1);
    if (sg::mpi::rank() == 0) std::printf("%.1f %.4f\n", rate, 1e3 * cpu / m["count"].get<double>());
    return 0;
  }
  if (mode == "profile") {
    Recipe r;
    r.name = "bench";
    r.pattern = "*.jpg";
    r.flip = "before_resize";
    r.steps = {{"center_crop", std::stoi(argv[3]), ""}};
    const ShardSource src = files_source(argv[2], r);
    const std::string out = argv[4];
    // As the sharder does: 100 items a shard, freed memory kept for the next shard's images.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
    const int64_t total = std::min<int64_t>(src.count(), 500), n = 100, S = src.store_size();
    std::vector<Item> items;
    double c0 = cpu_secs();
    for (int64_t i = 0; i < total; ++i) {
      if (static_cast<int64_t>(items.size()) == n) items.clear();
      items.push_back(produce_item(src, i));
    }
    const double produce = cpu_secs() - c0;
    c0 = cpu_secs();
    for (int64_t i = 0; i < total; ++i) (void)src.item_identity(i);
    const double identity = cpu_secs() - c0;
    auto row = [&](const std::string& what, double s) { std::printf("%-40s %7.3f ms/img\n", what.c_str(), 1e3 * s / n); };
    std::printf("%-40s %7.3f ms/img\n", "read + decode + recipe", 1e3 * produce / total);
    std::printf("%-40s %7.3f ms/img\n", "item identity (stat)", 1e3 * identity / total);
    // v1 (and --deflate N): HDF5 writes chunks through its cache and the page cache; the file is
    // fsynced and read back to hash it.
    for (int deflate : {1, 0}) {
      c0 = cpu_secs();
      {
        h5::File f = h5::File::create(out);
        auto images = f.create_dataset("images", h5::Type::u8, {n, S, S, 3}, deflate);
        for (int64_t j = 0; j < n; ++j) images.write_rows(j, 1, items[static_cast<size_t>(j)].rgb.rgb.data());
      }
      const double write = cpu_secs() - c0;
      c0 = cpu_secs();
      sg::fsync_path(out);
      const double sync = cpu_secs() - c0;
      c0 = cpu_secs();
      const std::string h = sg::hash_file(out);
      const double hash = cpu_secs() - c0;
      const std::string tag = "chunked, deflate " + std::to_string(deflate) + ": ";
      row(tag + "HDF5 write (" + std::to_string(fs::file_size(out) / 1000 / n) + " kB/img)", write);
      row(tag + "fsync", sync);
      row(tag + "read back + hash", hash + 0 * h.size());
      fs::remove(out);
    }
    // v2, uncompressed (the default): HDF5 lays out a contiguous block and writes only metadata;
    // RegionWriter fills the block past the page cache and hashes the file on the way.
    c0 = cpu_secs();
    int64_t offset = 0;
    {
      h5::File f = h5::File::create(out, sg::RegionWriter::kAlign);
      offset = f.create_contiguous("images", h5::Type::u8, {n, S, S, 3}).offset();
    }
    const double layout = cpu_secs() - c0;
    c0 = cpu_secs();
    std::string h;
    bool direct = false;
    {
      sg::RegionWriter w(out);
      w.begin_region(offset);
      for (const Item& it : items) w.append(it.rgb.rgb.data(), it.rgb.rgb.size());
      direct = w.direct();
      h = w.finish();
    }
    const double fill = cpu_secs() - c0;
    c0 = cpu_secs();
    sg::fsync_path(out);
    const double sync = cpu_secs() - c0;
    row("contiguous (v2): HDF5 layout, metadata only", layout);
    row(std::string("contiguous (v2): fill + hash (") + (direct ? "O_DIRECT" : "page cache") + ")", fill);
    row("contiguous (v2): fsync", sync);
    if (h != sg::hash_file(out)) std::printf("(the hash on the way differs from the file's!)\n");
    fs::remove(out);
    return 0;
  }
  if (mode == "loader") {
    const int64_t B = std::stoll(argv[4]), steps = std::stoll(argv[6]);
    const int S = std::stoi(argv[5]);
    LoaderOptions o;
    o.dir = argv[3];
    o.batch_size = B;
    o.img_size = S;
    Loader l(o);
    l.next();  // the cache is built in the constructor; time steady state only
    auto t0 = Clock::now();
    double sum = 0;
    for (int64_t i = 0; i < steps; ++i) sum += l.next().data[0];
    const double loader_rate = steps / secs(t0);
    const auto files = jpgs(argv[2]);
    t0 = Clock::now();
    const int64_t dsteps = std::max<int64_t>(3, steps / 50);
    std::vector<float> out(static_cast<size_t>(B * 3 * S * S));
    for (int64_t i = 0; i < dsteps; ++i)
      for (int64_t j = 0; j < B; ++j) {
        Rng rng(1, static_cast<uint64_t>(i * B + j), 0);
        const Image img = resize_nearest_tensor(decode_image(sg::read_file(files[rng.below(files.size())])).image, S, S);
        for (int64_t p = 0; p < S * S; ++p)
          for (int c = 0; c < 3; ++c) out[static_cast<size_t>((j * 3 + c) * S * S + p)] = img.rgb[p * 3 + c] / 127.5f - 1;
      }
    const double decode_rate = dsteps / secs(t0);
    std::printf("%.1f %.1f\n", loader_rate, decode_rate);
    return sum == 12345.678;
  }
  return 2;
}
