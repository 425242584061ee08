#include "weights/torch_zip.h"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "weights/state_dict.h"
#include "weights_test_util.h"

using namespace sg::weights;
using sg::weights::testing::python;
using sg::weights::testing::scratch;
using sg::weights::testing::value;
using Kind = PyValue::Kind;

namespace {

// The FormatError message of reading `path` as a state dict ("" if it did not throw one).
std::string state_dict_error(const std::string& path) {
  try {
    read_state_dict(path);
  } catch (const sg::FormatError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("garbage, empty, truncated and missing files are errors naming the file") {
  const std::string dir = scratch("bad_files");
  sg::write_file_atomic(dir + "/garbage.pth", "this is not a checkpoint at all");
  sg::write_file_atomic(dir + "/empty.pth", "");
  std::string msg = state_dict_error(dir + "/garbage.pth");
  CHECK(contains(msg, dir + "/garbage.pth: not a torch.save file"));
  msg = state_dict_error(dir + "/empty.pth");
  CHECK(contains(msg, dir + "/empty.pth: empty file"));

  REQUIRE(python({"make-state-dict", dir + "/good.pth"}, dir + "/py.log") == 0);
  const std::string good = sg::read_file(dir + "/good.pth");
  for (size_t keep : {good.size() / 2, good.size() - 30, size_t{10}}) {
    CAPTURE(keep);
    sg::write_file_atomic(dir + "/cut.pth", good.substr(0, keep));
    msg = state_dict_error(dir + "/cut.pth");
    CAPTURE(msg);
    CHECK(contains(msg, dir + "/cut.pth: unreadable torch.save zip archive"));
  }
  // A storage payload with one byte flipped: the zip directory's CRC-32 catches it.
  std::string flipped = good;
  const size_t name = flipped.find("good/data/0");
  REQUIRE(name != std::string::npos);
  // The local header starts 30 bytes before the name; the payload follows name and extra field.
  const size_t header = name - 30;
  auto u16 = [&](size_t at) { return size_t(uint8_t(flipped[at])) | size_t(uint8_t(flipped[at + 1])) << 8; };
  flipped[header + 30 + u16(header + 26) + u16(header + 28) + 5] ^= 0x55;
  sg::write_file_atomic(dir + "/flipped.pth", flipped);
  CHECK(state_dict_error(dir + "/flipped.pth") ==
        dir + "/flipped.pth: record 'data/0' is corrupt (its CRC-32 does not match the zip directory)");

  CHECK_THROWS_AS(read_state_dict(dir + "/does-not-exist.pth"), sg::IoError);
}

TEST_CASE("wrong content: an optimizer state or a plain list is not a state dict") {
  const std::string dir = scratch("wrong_content");
  REQUIRE(python({"make-optimizer", dir + "/opt.pth"}, dir + "/py.log") == 0);
  std::string msg = state_dict_error(dir + "/opt.pth");
  CHECK(contains(msg, dir + "/opt.pth: expected a state dict"));
  CHECK(contains(msg, "looks like an optimizer state"));
  CHECK(contains(msg, "'state' holds a dict of 1"));
  CHECK(contains(msg, "'param_groups' holds a list of 1"));

  REQUIRE(python({"make-ema", dir + "/ema.pth", "5"}, dir + "/py.log") == 0);
  msg = state_dict_error(dir + "/ema.pth");
  CHECK(contains(msg, dir + "/ema.pth: expected a state dict (a dict of names to tensors), found a "
                      "torch_ema.ExponentialMovingAverage object"));
}

TEST_CASE("storages saved from a GPU load onto the CPU") {
  const std::string dir = scratch("cuda_tagged");
  REQUIRE(python({"make-cuda-tagged", dir + "/gpu.pth"}, dir + "/py.log") == 0);
  CHECK(sg::read_file(dir + "/gpu.pth").find("cuda:0") != std::string::npos);
  const StateDict sd = read_state_dict(dir + "/gpu.pth");
  REQUIRE(sd.size() == 1);
  CHECK(sd[0].first == "w");
  CHECK(sd[0].second.device().is_cpu());
  CHECK(torch::equal(sd[0].second, value("w", {3, 2}, at::kFloat)));
}

TEST_CASE("pickle protocol 4 (FRAME, MEMOIZE, SHORT_BINUNICODE) reads like protocol 2") {
  const std::string dir = scratch("protocol4");
  REQUIRE(python({"make-protocol4", dir + "/p4.pth"}, dir + "/py.log") == 0);
  const StateDict sd = read_state_dict(dir + "/p4.pth");
  REQUIRE(sd.size() == 2);
  CHECK(sd[0].first == "a");
  CHECK(torch::equal(sd[0].second, value("a", {2, 3}, at::kFloat)));
  CHECK(sd[1].first == "bb");
  CHECK(std::string(dtype_name(sd[1].second.scalar_type())) == "int64");
  CHECK(torch::equal(sd[1].second, value("bb", {4}, at::kLong)));
}

TEST_CASE("numpy scalars, bytes, sets and nested containers unpickle to their values") {
  const std::string dir = scratch("misc");
  REQUIRE(python({"make-misc", dir + "/misc.pth"}, dir + "/py.log") == 0);
  const PyRef root = load_torch_file(dir + "/misc.pth");
  REQUIRE(root->is(Kind::dict));
  auto at = [&](const char* k) -> const PyValue& {
    const PyValue* v = attribute(*root, k);
    REQUIRE_MESSAGE(v, k);
    return *v;
  };
  CHECK(at("np_f8").is(Kind::floating));
  CHECK(at("np_f8").f == 2.5);
  CHECK(at("np_i8").is(Kind::integer));
  CHECK(at("np_i8").i == -7);
  CHECK(at("np_f4").f == 0.25);
  CHECK(at("float").f == 1.5e-3);
  CHECK(at("int").i == 123456789012);
  CHECK(at("neg").i == -2);
  CHECK(at("big_neg").i == -(int64_t{1} << 40));
  CHECK(at("true").is(Kind::boolean));
  CHECK(at("true").b);
  CHECK(at("none").is(Kind::none));
  CHECK(at("bytes").is(Kind::bytes));
  CHECK(at("bytes").s == std::string("\x00\xff" "ab", 4));
  CHECK(at("text").s == "h\xc3\xa9llo");
  const PyValue& list = at("list");
  REQUIRE(list.items.size() == 3);
  CHECK(list.items[0]->i == 1);
  CHECK(list.items[1]->f == 2.0);
  CHECK(list.items[2]->s == "x");
  const PyValue& tuple = at("tuple");
  REQUIRE(tuple.is(Kind::tuple));
  CHECK(tuple.items[1]->items[1]->i == 5);
  REQUIRE(at("set").items.size() == 1);
  CHECK(at("set").items[0]->i == 9);
  const PyValue* k = attribute(at("nested"), "k");
  REQUIRE(k);
  REQUIRE(k->items.size() == 1);
  CHECK(torch::equal(k->items[0]->tensor, torch::arange(3)));
}

namespace {

// Rewrites the central-directory entry of `record` (full name inside the zip) as a deflated
// record claiming `size` bytes uncompressed. The local header and the data stay as they are:
// the size is what LibTorch's reader allocates before it inflates anything.
void claim(std::string& zip, const std::string& record, uint32_t size) {
  for (size_t at = zip.find("PK\x01\x02"); at != std::string::npos; at = zip.find("PK\x01\x02", at + 1)) {
    const size_t name_len = size_t(uint8_t(zip[at + 28])) | size_t(uint8_t(zip[at + 29])) << 8;
    if (zip.compare(at + 46, name_len, record) != 0) continue;
    zip[at + 10] = 8;  // method: deflate
    zip[at + 11] = 0;
    for (int k = 0; k < 4; ++k) zip[at + 24 + k] = static_cast<char>((size >> (8 * k)) & 0xFF);
    return;
  }
  FAIL("no central directory entry for " << record);
}

}  // namespace

TEST_CASE("zip records claiming more than the file holds are refused before they are allocated") {
  const std::string dir = scratch("zip_claims");
  REQUIRE(python({"make-state-dict", dir + "/good.pth"}, dir + "/py.log") == 0);
  const std::string good = sg::read_file(dir + "/good.pth");
  const std::string path = dir + "/claims.pth";

  // One record claiming 4 GiB: LibTorch allocated all of it before inflating a byte.
  std::string huge = good;
  claim(huge, "good/data.pkl", 0xFFFFFFF0u);
  sg::write_file_atomic(path, huge);
  std::string outcome = sg::weights::testing::in_child([&] { read_state_dict(path); });
  CHECK(outcome == fmt::format("{}: zip record 'good/data.pkl' claims 4294967280 bytes, more than the "
                               "whole file ({} bytes)", path, huge.size()));

  // Two records each claiming 60% of the file: each alone is plausible, together they are not.
  std::string two = good;
  const auto part = static_cast<uint32_t>(good.size() * 6 / 10);
  claim(two, "good/data.pkl", part);
  claim(two, "good/data/0", part);
  sg::write_file_atomic(path, two);
  outcome = sg::weights::testing::in_child([&] { read_state_dict(path); });
  CHECK(contains(outcome, fmt::format("{}: zip records claim more than the whole file ({} bytes) in all; "
                                      "torch.save stores records uncompressed", path, two.size())));
}

TEST_CASE("a tensor whose elements outnumber the file's bytes (a stride-0 view) is refused") {
  const std::string dir = scratch("expanded");
  REQUIRE(python({"make-expanded", dir + "/x.pth"}, dir + "/py.log") == 0);
  const std::string msg = state_dict_error(dir + "/x.pth");
  CHECK(contains(msg, dir + "/x.pth: tensor of size (1048576, 1048576) x float32 (4398046511104 bytes) is "
                      "larger than the whole file"));
}
