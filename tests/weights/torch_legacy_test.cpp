// The legacy (non-zip) torch.save format, written by Debian's python3-torch with
// _use_new_zipfile_serialization=False: the format of pt_inception-2015-12-05-6726825d.pth.
#include "weights/torch_legacy.h"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/subprocess.h"
#include "weights/state_dict.h"
#include "weights_test_util.h"

using namespace sg::weights;
using sg::weights::testing::scratch;
using sg::weights::testing::value;

namespace {

int python_inline(const std::string& code, const std::string& log) {
  sg::ProcessSpec spec;
  spec.argv = {"/usr/bin/python3", "-c", code};
  spec.output_path = log;
  spec.env = {{"OMP_NUM_THREADS", "1"}};
  return sg::run_process(spec).code;
}

// The same value rule as weights_py.py, in Python.
const char* kValue =
    "import collections, torch\n"
    "def value(key, shape, dtype):\n"
    "    n = 1\n"
    "    for s in shape: n *= s\n"
    "    v = ((torch.arange(n, dtype=torch.float64) * 7 + len(key) * 13) % 101 - 50) / 8\n"
    "    return v.reshape(shape).to(dtype)\n";

std::string error_of(const std::string& path) {
  try {
    read_state_dict(path);
  } catch (const sg::FormatError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a legacy torch.save state dict reads back with every dtype, view and shared storage") {
  const std::string dir = scratch("legacy_read");
  const std::string path = dir + "/legacy.pth";
  const std::string code = std::string(kValue) +
      "sd = collections.OrderedDict()\n"
      "sd['conv.weight'] = value('conv.weight', (4, 3, 2, 2), torch.float32)\n"
      "sd['bn.running_var'] = value('bn.running_var', (5,), torch.float64)\n"
      "sd['bn.num_batches_tracked'] = torch.tensor(7, dtype=torch.int64)\n"
      "base = value('fc.weight', (6, 8), torch.float32)\n"
      "sd['fc.weight'] = base\n"
      "sd['fc.weight_t'] = base.t()\n"           // a strided view of the same storage
      "sd['fc.row'] = base[2]\n"                 // an offset view of it
      "sd['half'] = value('half', (3,), torch.float16)\n"
      "sd['mask'] = torch.tensor([True, False, True])\n"
      "sd['empty'] = torch.zeros(0, 3)\n"
      "sd._metadata = {'': {'version': 1}}\n"
      "torch.save(sd, '" + path + "', _use_new_zipfile_serialization=False)\n";
  REQUIRE(python_inline(code, dir + "/py.log") == 0);
  CHECK(is_legacy_torch_save(sg::read_file(path)));

  const StateDict sd = read_state_dict(path);
  REQUIRE(sd.size() == 9);
  CHECK(sd[0].first == "conv.weight");
  CHECK(torch::equal(sd[0].second, value("conv.weight", {4, 3, 2, 2}, at::kFloat)));
  CHECK((sd[1].second.scalar_type() == at::kDouble));
  CHECK(torch::equal(sd[1].second, value("bn.running_var", {5}, at::kDouble)));
  CHECK(sd[2].second.item<int64_t>() == 7);
  const at::Tensor base = value("fc.weight", {6, 8}, at::kFloat);
  CHECK(torch::equal(sd[3].second, base));
  CHECK(torch::equal(sd[4].second, base.t()));
  CHECK(torch::equal(sd[5].second, base[2]));
  // Shared storage stays shared, as torch.load gives it.
  CHECK(sd[4].second.data_ptr<float>() == sd[3].second.data_ptr<float>());
  CHECK((sd[6].second.scalar_type() == at::kHalf));
  CHECK(torch::equal(sd[6].second, value("half", {3}, at::kHalf)));
  CHECK(torch::equal(sd[7].second, torch::tensor({true, false, true})));
  CHECK((sd[8].second.sizes() == at::IntArrayRef({0, 3})));
}

TEST_CASE("a legacy file cut short or with a wrong storage size is an error naming the file") {
  const std::string dir = scratch("legacy_bad");
  const std::string path = dir + "/legacy.pth";
  REQUIRE(python_inline(std::string(kValue) + "torch.save({'w': value('w', (64,), torch.float32)}, '" + path +
                            "', _use_new_zipfile_serialization=False)\n",
                        dir + "/py.log") == 0);
  const std::string bytes = sg::read_file(path);
  CHECK(read_state_dict(path).size() == 1);

  sg::write_file_atomic(dir + "/cut.pth", bytes.substr(0, bytes.size() - 10));
  std::string msg = error_of(dir + "/cut.pth");
  CHECK(msg.find(dir + "/cut.pth: file ends inside storage") == 0);

  sg::write_file_atomic(dir + "/cut_pickle.pth", bytes.substr(0, 40));
  msg = error_of(dir + "/cut_pickle.pth");
  CHECK(msg.find(dir + "/cut_pickle.pth") == 0);

  // The record's element count (8 bytes before the 256 bytes of data) disagrees with the pickle.
  std::string wrong = bytes;
  const size_t header = bytes.size() - 64 * 4 - 8;
  wrong[header] = 63;
  sg::write_file_atomic(dir + "/wrong.pth", wrong);
  msg = error_of(dir + "/wrong.pth");
  CHECK(msg.find("record holds 63 elements, the object expects 64") != std::string::npos);
}

namespace {

std::string error_of_bytes(const std::string& bytes) {
  try {
    load_legacy_torch_bytes(bytes, "crafted.pth");
  } catch (const sg::FormatError& e) {
    return e.what();
  }
  return "";
}

// A legacy file whose object is a list of `count` storages each claiming `numel` floats, followed
// by `padding` bytes: the sizes are lies, the padding makes each one alone look plausible
// against "what is left of the file".
std::string claiming_storages(int count, uint32_t numel, size_t padding) {
  using sg::weights::testing::pickled_str;
  std::string object("\x80\x02](", 4);
  for (int k = 0; k < count; ++k)
    object += "(" + pickled_str("storage") + "ctorch\nFloatStorage\n" + pickled_str("k" + std::to_string(k)) +
              pickled_str("cpu") + "J" + sg::weights::testing::le32(numel) + "NtQ";
  return sg::weights::testing::legacy_file(object + "e.") + std::string(padding, '\0');
}

}  // namespace

TEST_CASE("legacy storages claiming more bytes in all than the file holds are refused before allocating") {
  // 1000 storages of 1 MiB each against a file of 1.05 MiB: each passed the check against the
  // rest of the file alone, and 1 GiB of zeros was allocated before the records were read.
  const std::string bytes = claiming_storages(1000, 1 << 18, 1 << 20);
  const std::string outcome = sg::weights::testing::in_child(
      [&] { load_legacy_torch_bytes(bytes, "crafted.pth"); }, 60, uint64_t{512} << 20);
  CHECK(outcome == fmt::format("crafted.pth: storage 'k1' of 262144 x float32 brings the storages to "
                               "2097168 bytes, more than the {} bytes left in the file", bytes.size() - 25));
  // The same storages, honestly sized, pass the check and fail only at their missing records.
  const std::string honest = claiming_storages(2, 4, 64);
  CHECK(error_of_bytes(honest) == "crafted.pth: 2 storages are used but 0 stored");
}
