// LPIPS-VGG (v0.1) against the reference, number for number: the fixture
// (../shared/fixtures/lpips/README.md is its specification, or $SG_LPIPS_FIXTURES) holds fixed
// depth maps shaped like the depth loss's call, the official heads, and the reference's per-sample
// distance, per-layer terms, input gradient, L1 and whole depth loss. Its VGG16 backbone is a
// formula (tests/lib/formula_weights.h), checked tensor by tensor against the fixture's checksums
// first, so a formula bug is reported as such and not as a network mismatch.
//
// Everything (seed, shapes, cases, ray range, thread count, tolerances) is read from the
// fixture's JSON and HDF5: another fixture of the same layout must pass unchanged. The
// tolerances are the fixture's (20 x the largest float noise it measured; README "What to
// compare"); the test prints each measured deviation next to its tolerance.
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "data/hdf5.h"
#include "formula_lpips.h"
#include "formula_weights.h"
#include "train/lpips.h"
#include "weights/state_dict.h"
// doctest last: its CHECK must win over glog's, which LibTorch headers define.
#include <doctest/doctest.h>

namespace fs = std::filesystem;
using nlohmann::json;
using namespace sg;

namespace {

fs::path fixture_dir() {
  if (const char* d = std::getenv("SG_LPIPS_FIXTURES"); d && *d) return d;
  return fs::path(SG_SHARED_DIR "/fixtures/lpips");
}

// The fixture's one JSON file and the HDF5 file of the same stem.
struct Fixture {
  json meta;
  fs::path h5;
};

const Fixture& fixture() {
  static const Fixture f = [] {
    const fs::path dir = fixture_dir();
    std::vector<fs::path> jsons;
    if (fs::is_directory(dir))
      for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".json") jsons.push_back(e.path());
    REQUIRE_MESSAGE(jsons.size() == 1, "expected one LPIPS fixture JSON in " << dir << " ($SG_LPIPS_FIXTURES), found "
                                                                              << jsons.size());
    Fixture r;
    std::ifstream in(jsons[0]);
    r.meta = json::parse(in);
    r.h5 = fs::path(jsons[0]).replace_extension(".h5");
    REQUIRE_MESSAGE(fs::exists(r.h5), "LPIPS fixture HDF5 missing: " << r.h5);
    return r;
  }();
  return f;
}

// A float dataset of the fixture as a float32 tensor of its stored shape (the float64
// datasets keep float64).
at::Tensor read(const std::string& name) {
  const data::h5::File f = data::h5::File::open_read(fixture().h5.string());
  const data::h5::Dataset d = f.open_dataset(name);
  const std::vector<double> v = d.read_all_f64();
  const at::ScalarType t = d.type() == data::h5::Type::f64 ? at::kDouble : at::kFloat;
  return torch::tensor(v, torch::kDouble).view(d.dims()).to(t);
}

uint64_t hex(const json& j) { return std::stoull(j.get<std::string>(), nullptr, 16); }

std::vector<int64_t> shape_of(const json& j) { return j.get<std::vector<int64_t>>(); }

fs::path scratch() {
  const char* tmp = std::getenv("SG_TEST_TMP");
  const fs::path d = fs::path(tmp ? tmp : "/tmp") / ("lpips-" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

// The network as the trainer gets it: the regenerated backbone and the fixture's heads written
// as two state dicts (torchvision's and LPIPS's names) and read back through load_lpips.
const train::Lpips& network() {
  static const train::Lpips net = [] {
    const json& bw = fixture().meta.at("backbone_weights");
    const uint64_t seed = bw.at("seed").get<uint64_t>();
    weights::StateDict backbone, heads;
    for (const json& t : bw.at("tensors")) {
      const std::string name = t.at("name").get<std::string>();
      at::Tensor w = test::formula_tensor(name, shape_of(t.at("shape")), seed, t.at("e").get<int>());
      // A formula bug is reported as one here, not as a network mismatch below.
      REQUIRE_MESSAGE(test::formula_checksum(w) == hex(t.at("checksum")),
                      name << ": the regenerated weights do not have the fixture's checksum");
      backbone.emplace_back(name, std::move(w));
    }
    const json& h = fixture().meta.at("heads");
    for (const json& n : h.at("names"))
      heads.emplace_back(n.get<std::string>(), read(h.at("h5_group").get<std::string>() + "/" + n.get<std::string>()));
    const fs::path dir = scratch();
    train::LpipsWeightFiles files;
    files.backbone = (dir / "vgg16.pth").string();
    files.heads = (dir / "vgg.pth").string();
    weights::write_state_dict(files.backbone, backbone);
    weights::write_state_dict(files.heads, heads);
    train::Lpips n = train::load_lpips(files);
    fs::remove_all(dir);
    return n;
  }();
  return net;
}

double tolerance(const std::string& quantity) {
  return fixture().meta.at("tolerances").at("max").at(quantity).get<double>();
}

// max over elements of |c - r| / |r| (the fixture's metric for lpips, lpips_per_layer, l1, depth_loss).
double max_rel(const at::Tensor& c, const at::Tensor& r) {
  REQUIRE(c.sizes() == r.sizes());
  const at::Tensor cd = c.detach().to(at::kDouble), rd = r.to(at::kDouble);
  return ((cd - rd).abs() / rd.abs()).max().item<double>();
}

// For each sample b, max |c_b - r_b| / max |r_b|; the largest over b.
double max_rel_per_sample(const at::Tensor& c, const at::Tensor& r) {
  REQUIRE(c.sizes() == r.sizes());
  const int64_t B = r.size(0);
  const at::Tensor cd = c.detach().to(at::kDouble).reshape({B, -1}), rd = r.to(at::kDouble).reshape({B, -1});
  return ((cd - rd).abs().amax(1) / rd.abs().amax(1)).max().item<double>();
}

void report(const std::string& where, const std::string& quantity, double dev) {
  MESSAGE(where << " " << quantity << ": " << dev << " (tolerance " << tolerance(quantity) << ")");
  CHECK_MESSAGE(dev <= tolerance(quantity), where << " " << quantity << ": " << dev << " > " << tolerance(quantity));
}

}  // namespace

TEST_CASE("lpips: the formula backbone has the fixture's stream starts, first values and checksums") {
  const json& bw = fixture().meta.at("backbone_weights");
  const uint64_t seed = bw.at("seed").get<uint64_t>();
  const json& tensors = bw.at("tensors");
  // The VGG16 the network needs, all of it: a fixture listing fewer tensors is not this one.
  REQUIRE(tensors.size() == 2 * train::vgg16_convs().size());
  for (const json& t : tensors) {
    const std::string name = t.at("name").get<std::string>();
    CAPTURE(name);
    CHECK(test::formula_stream_start(name, seed) == hex(t.at("stream_start")));
    const at::Tensor w = test::formula_tensor(name, shape_of(t.at("shape")), seed, t.at("e").get<int>());
    const float* p = w.data_ptr<float>();
    const json& first = t.at("first_bits");
    for (size_t i = 0; i < first.size(); ++i) {
      uint32_t bits;
      std::memcpy(&bits, p + i, 4);
      CHECK(bits == hex(first[i]));
      CHECK(p[i] == t.at("first_values")[i].get<float>());
    }
    CHECK(test::formula_checksum(w) == hex(t.at("checksum")));
    // Uniform on [-bound, bound), bound = 2^-e.
    const double bound = t.at("bound").get<double>();
    CHECK(bound == std::ldexp(1.0, -t.at("e").get<int>()));
    CHECK(w.max().item<double>() < bound);
    CHECK(w.min().item<double>() >= -bound);
  }
}

// formula_lpips (tests/lib) builds the network from a seed alone, as the train-step parity test
// must: its exponents and tensors must be the ones this fixture lists and checks.
TEST_CASE("lpips: formula_lpips, the train-step test's network, is the fixture's") {
  const json& bw = fixture().meta.at("backbone_weights");
  for (const json& t : bw.at("tensors")) {
    const std::string name = t.at("name").get<std::string>();
    CAPTURE(name);
    const bool bias = name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
    CHECK(test::formula_vgg_e(t.at("fan_in").get<int64_t>(), bias) == t.at("e").get<int>());
  }
  const train::Lpips a = test::formula_lpips(bw.at("seed").get<uint64_t>(), fixture().h5.string());
  const train::Lpips& b = network();
  REQUIRE(a.conv_w.size() == b.conv_w.size());
  for (size_t i = 0; i < a.conv_w.size(); ++i) {
    CHECK(at::equal(a.conv_w[i], b.conv_w[i]));
    CHECK(at::equal(a.conv_b[i], b.conv_b[i]));
  }
  REQUIRE(a.lin.size() == b.lin.size());
  for (size_t k = 0; k < a.lin.size(); ++k) CHECK(at::equal(a.lin[k], b.lin[k]));
}

TEST_CASE("lpips: the inputs are the normalised raw depths, bit for bit") {
  const json& s = fixture().meta.at("settings");
  const double rs = s.at("ray_start").get<double>(), re = s.at("ray_end").get<double>();
  for (const json& c : fixture().meta.at("cases")) {
    const std::string g = c.at("group").get<std::string>();
    CAPTURE(g);
    const std::vector<int64_t> shape = {c.at("batch").get<int64_t>(), c.at("size").get<int64_t>(),
                                        c.at("size").get<int64_t>()};
    for (const auto& [raw, norm] : {std::pair{"depth_pred_raw", "pred"}, std::pair{"depth_raw", "target"}}) {
      const at::Tensor d = read(g + "/" + raw), want = read(g + "/" + norm);
      REQUIRE(want.sizes() == at::IntArrayRef(shape));
      // The depth loss's normalisation, as the reference writes it (float32 tensor, Python floats).
      const at::Tensor got = ((d - rs) / (re - rs)) * 2 - 1;
      CHECK(at::equal(got, want));
    }
  }
}

TEST_CASE("lpips: distance, per-layer terms, input gradient, L1 and depth loss match the reference") {
  const json& meta = fixture().meta;
  at::set_num_threads(meta.at("settings").at("threads").get<int>());
  const train::Lpips& net = network();
  for (const json& c : meta.at("cases")) {
    const std::string g = c.at("group").get<std::string>();
    CAPTURE(g);
    const int64_t B = c.at("batch").get<int64_t>(), S = c.at("size").get<int64_t>();
    const at::Tensor target = read(g + "/target");
    const at::Tensor pred = read(g + "/pred").requires_grad_(true);
    REQUIRE(pred.sizes() == at::IntArrayRef({B, S, S}));
    REQUIRE(target.sizes() == at::IntArrayRef({B, S, S}));
    // The depth loss's call: one depth channel repeated to three.
    const at::Tensor x = pred.unsqueeze(1).repeat({1, 3, 1, 1});
    const at::Tensor y = target.unsqueeze(1).repeat({1, 3, 1, 1});
    const at::Tensor lp = train::lpips_distance(net, x, y);
    const at::Tensor l1 = at::l1_loss(pred, target);
    const at::Tensor depth_loss = l1 + lp.mean();
    lp.sum().backward();
    at::Tensor per_layer;
    {
      torch::NoGradGuard ng;
      per_layer = train::lpips_per_layer(net, x, y);
    }
    report(g, "lpips", max_rel(lp, read(g + "/lpips")));
    report(g, "lpips_per_layer", max_rel(per_layer, read(g + "/lpips_per_layer")));
    report(g, "grad_pred", max_rel_per_sample(pred.grad(), read(g + "/grad_pred")));
    report(g, "l1", max_rel(l1, read(g + "/l1")));
    report(g, "depth_loss", max_rel(depth_loss, read(g + "/depth_loss")));
    // For information: how far the float64 reference is (the fixture's noise floor).
    MESSAGE(g << " lpips vs the float64 reference: " << max_rel(lp, read(g + "/lpips_f64")));
    // The per-layer terms sum, in order, to the distance (the per-layer variant is the same network).
    CHECK(max_rel(per_layer.sum(1), lp.detach()) < 1e-6);
  }
}

TEST_CASE("lpips: a wrong head moves the distance far outside the tolerance") {
  // The comparison above can fail: zeroing the third head (relu3_3) must move the first case's
  // distance by more than the tolerance, as the fixture's own sensitivity table says it does.
  const json& meta = fixture().meta;
  train::Lpips net = network();
  net.lin[2] = torch::zeros_like(net.lin[2]);
  const std::string g = meta.at("cases").at(0).at("group").get<std::string>();
  const at::Tensor x = read(g + "/pred").unsqueeze(1).repeat({1, 3, 1, 1});
  const at::Tensor y = read(g + "/target").unsqueeze(1).repeat({1, 3, 1, 1});
  torch::NoGradGuard ng;
  const double dev = max_rel(train::lpips_distance(net, x, y), read(g + "/lpips"));
  MESSAGE(g << " lpips with head 2 zeroed: " << dev);
  CHECK(dev > 10 * tolerance("lpips"));
}
