// Training-step parity: two consecutive iterations of the reference's training loop per case,
// replayed from the fixture in $SG_TRAIN_FIXTURES (default ../shared/fixtures/train_step; its
// README.md is the specification) and compared number by number: losses, R1, penalties, scores,
// top-k, the forward tensors of both halves, every parameter's gradient before clipping, its value
// after Adam, its update, both EMA shadows, and the schedules (delta, num_steps, lr_ratio, alpha,
// nerf_noise, l_ratio, learning rates).
//
// Nothing here knows what one fixture contains: cases, iterations, seeds, sizes, the curriculum,
// the draws and their shapes, the weight formula's per-tensor settings, the quantities recorded and
// every tolerance come from train_step.json (and the LPIPS heads and backbone settings from the
// LPIPS fixture it names). A fixture of the same layout with other seeds must pass unchanged.
//
// The metric is the fixture's (README "Comparing, tolerances"): scalars relative; tensors stored
// whole by ||c - r|| (forward/grad/update relative to ||r||; parameters by the 90th percentile of
// |c - r| in units of the learning rate); signatures by max(|dsum|, |ddot1|, |ddot2|) / sqrt(n) +
// |sqrt(sumsq_c) - sqrt(sumsq_r)|, relative to ||r|| or in learning rates likewise.
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "config/curriculum.h"
#include "data/hdf5.h"
#include "formula_weights.h"
#include "model/render_schedule.h"
#include "model/shading.h"
#include "train/model_setup.h"
#include "train/train_step.h"
// doctest last: its CHECK must win over glog's, which LibTorch headers define.
#include <doctest/doctest.h>

namespace fs = std::filesystem;
using nlohmann::json;
using namespace sg;

namespace {

fs::path fixture_dir() {
  if (const char* d = std::getenv("SG_TRAIN_FIXTURES"); d && *d) return d;
  return fs::path(SG_SHARED_DIR) / "fixtures/train_step";
}

json read_json(const fs::path& p) {
  std::ifstream in(p);
  REQUIRE_MESSAGE(in.good(), "cannot read " << p);
  return json::parse(in);
}

at::Tensor read_tensor(const data::h5::File& f, const std::string& name) {
  const data::h5::Dataset ds = f.open_dataset(name);
  const std::vector<double> v = ds.read_all_f64();
  return at::tensor(v, at::kDouble).reshape(ds.dims()).to(at::kFloat);
}

std::vector<int64_t> shape_of(const json& j) { return j.get<std::vector<int64_t>>(); }

// ---- the curriculum the fixture resolved, as one of ours ----

std::string toml_value(const json& v) {
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_array()) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + toml_value(v[i]);
    return s + "]";
  }
  return v.dump();  // numbers and strings: JSON's spelling is TOML's
}

// A curriculum whose resolution at the case's steps is the fixture's `metadata`: its global keys,
// the model sizes of `settings`, and its stage from 0 (or, when the fixture's discriminator fade-in
// restarts at last_upsample_step > 0, a half-size stage before it), ending after the iterations.
config::Curriculum case_curriculum(const json& fx, const json& c) {
  static const std::vector<std::string> stage_keys = {"batch_size", "num_steps", "img_size",
                                                      "batch_split", "gen_lr",   "disc_lr"};
  const json& m = c.at("metadata");
  const json& s = fx.at("settings");
  std::ostringstream t;
  for (const auto& [k, v] : m.items())
    if (std::find(stage_keys.begin(), stage_keys.end(), k) == stage_keys.end()) t << k << " = " << toml_value(v) << "\n";
  t << "siren_hidden_dim = " << s.at("siren_hidden_dim") << "\n";
  t << "mapping_hidden_dim = " << s.at("mapping_hidden_dim") << "\n";
  t << "surf_nf = " << s.at("surfacenet").at("nf") << "\n";
  t << "surf_size = " << s.at("surfacenet").at("size") << "\n";
  auto stage = [&](int64_t start, int64_t img_size) {
    t << "[stages." << start << "]\n";
    for (const auto& k : stage_keys) t << k << " = " << (k == "img_size" ? json(img_size) : m.at(k)) << "\n";
  };
  const int64_t last_up = c.at("last_upsample_step").get<int64_t>();
  const int64_t img = m.at("img_size").get<int64_t>();
  if (last_up > 0) stage(0, img / 2);
  stage(last_up, img);
  const int64_t end = c.at("curriculum_step").get<int64_t>() + int64_t(c.at("iterations").size()) + 1000;
  t << "[stages." << end << "]\n";
  return config::parse_curriculum(t.str(), "train_step fixture case");
}

// ---- the fixture's initial weights ----

// Every tensor of `spec` (weights.G / weights.D) into `module`'s parameters of the same name; both
// sides must name the same set.
void set_formula_weights(torch::nn::Module& module, const json& spec, const std::string& who) {
  const uint64_t seed = spec.at("seed").get<uint64_t>();
  auto params = module.named_parameters();
  size_t set = 0;
  torch::NoGradGuard ng;
  for (const json& t : spec.at("tensors")) {
    const std::string name = t.at("name");
    at::Tensor* p = params.find(name);
    REQUIRE_MESSAGE(p != nullptr, who << ": the fixture's tensor " << name << " is not one of our parameters");
    const auto shape = shape_of(t.at("shape"));
    REQUIRE_MESSAGE(p->sizes() == at::IntArrayRef(shape), who << " " << name << ": ours " << p->sizes() << ", fixture "
                                                              << at::IntArrayRef(shape));
    p->copy_(test::formula_tensor(name, shape, seed, t.at("e").get<int>(), t.at("mean").get<double>()));
    ++set;
  }
  REQUIRE_MESSAGE(set == params.size(), who << ": the fixture sets " << set << " tensors, we have " << params.size());
  REQUIRE(module.named_buffers().size() == 0);
}

// LPIPS-VGG v0.1: the backbone by the formula of the LPIPS fixture with the train-step fixture's
// seed, the official heads from the LPIPS fixture's h5.
train::Lpips fixture_lpips(const json& fx, const fs::path& dir) {
  const json& l = fx.at("lpips");
  const fs::path heads_file = dir / l.at("heads_file").get<std::string>();
  const json lj = read_json(heads_file.parent_path() / (heads_file.stem().string() + ".json"));
  const uint64_t seed = l.at("backbone_seed").get<uint64_t>();
  std::map<std::string, json> spec;
  for (const json& t : lj.at("backbone_weights").at("tensors")) spec[t.at("name")] = t;
  train::Lpips net;
  auto make = [&](const std::string& name) {
    REQUIRE_MESSAGE(spec.count(name), "LPIPS fixture has no backbone tensor " << name);
    const json& t = spec.at(name);
    return test::formula_tensor(name, shape_of(t.at("shape")), seed, t.at("e").get<int>());
  };
  for (const train::VggConv& c : train::vgg16_convs()) {
    net.conv_w.push_back(make("features." + std::to_string(c.index) + ".weight"));
    net.conv_b.push_back(make("features." + std::to_string(c.index) + ".bias"));
  }
  const data::h5::File h5 = data::h5::File::open_read(heads_file.string());
  for (int k = 0; k < 5; ++k) net.lin.push_back(read_tensor(h5, "heads/lin" + std::to_string(k) + ".model.1.weight"));
  return net;
}

// ---- the comparison ----

struct Outcome {
  double dev = 0, tol = 0;
  std::string where;
};

struct Report {
  const json* tolerances = nullptr;
  std::map<std::string, Outcome> worst;  // per tolerance key
  int checked = 0, failed = 0;

  void add(const std::string& key, const std::string& where, double dev) {
    const json& per = tolerances->at("per_class");
    REQUIRE_MESSAGE(per.contains(key), "the fixture has no tolerance " << key << " (for " << where << ")");
    const double tol = per.at(key).get<double>();
    ++checked;
    const bool ok = dev <= tol;  // NaN fails
    if (!ok) ++failed;
    CHECK_MESSAGE(ok, where << ": deviation " << dev << " > tolerance " << tol << " (" << key << ")");
    Outcome& w = worst[key];
    if (!(dev <= w.dev) || w.where.empty()) w = {dev, tol, where};
  }
};

double rel(double d, double norm) {
  if (norm > 0) return d / norm;
  return d == 0 ? 0 : std::numeric_limits<double>::infinity();
}

double norm2(const at::Tensor& t) { return t.to(at::kDouble).norm().item<double>(); }

// 90th percentile (element ceil(0.9 n) - 1 of the ascending order) of |c - r| / lr.
double p90_in_lr(const at::Tensor& c, const at::Tensor& r, double lr) {
  at::Tensor d = std::get<0>(((c.to(at::kDouble) - r.to(at::kDouble)).abs() / lr).flatten().sort());
  const int64_t n = d.numel();
  const int64_t i = std::max<int64_t>(0, int64_t(std::ceil(0.9 * double(n))) - 1);
  return d[i].item<double>();
}

// The signature of a float64 tensor (an update after - before), accumulated in float64.
test::Signature signature_f64(const at::Tensor& x, const std::vector<double>& v1, const std::vector<double>& v2) {
  const at::Tensor c = x.to(at::kDouble).contiguous();
  const double* p = c.data_ptr<double>();
  test::Signature s;
  for (int64_t i = 0; i < c.numel(); ++i) {
    s.sum += p[i];
    s.sumsq += p[i] * p[i];
    s.dot1 += p[i] * v1[size_t(i)];
    s.dot2 += p[i] * v2[size_t(i)];
  }
  return s;
}

// max(|dsum|, |ddot1|, |ddot2|) / sqrt(n) + |sqrt(sumsq_c) - sqrt(sumsq_r)|
double signature_distance(const test::Signature& c, const json& r, int64_t n) {
  const double rs = r.at(0), rq = r.at(1), r1 = r.at(2), r2 = r.at(3);
  const double m = std::max({std::abs(c.sum - rs), std::abs(c.dot1 - r1), std::abs(c.dot2 - r2)});
  return m / std::sqrt(double(n)) + std::abs(std::sqrt(c.sumsq) - std::sqrt(rq));
}

// The tolerance group of a parameter (README: d.layers, d.fromRGB, d.final_layer, g.siren,
// g.siren.mapping_network, g.surfacenet): the first component of its name, the mapping network
// apart from the rest of the SIREN.
std::string group_of(const std::string& net, const std::string& name) {
  if (name.rfind("siren.mapping_network.", 0) == 0) return net + ".siren.mapping_network";
  return net + "." + name.substr(0, name.find('.'));
}

std::optional<double> scalar_of(const train::StepResult& r, const std::string& name) {
  const std::map<std::string, double> m = {
      {"d_loss", r.d_loss},         {"g_loss", r.g_loss},
      {"r1", r.r1},                 {"d_identity", r.d_identity},
      {"d_position_penalty", r.d_position_penalty}, {"d_latent_penalty", r.d_latent_penalty},
      {"g_identity", r.g_identity}, {"g_position_penalty", r.g_position_penalty},
      {"g_latent_penalty", r.g_latent_penalty},
      {"real_score", r.real_score}, {"fake_score", r.fake_score},
      {"g_fake_score", r.g_fake_score}, {"depth_loss", r.depth_loss},
      {"depth_l1", r.depth_l1},     {"depth_lpips", r.depth_lpips},
      {"d_grad_norm", r.d_grad_norm}, {"g_grad_norm", r.g_grad_norm}};
  auto it = m.find(name);
  if (it == m.end()) return std::nullopt;
  return it->second;
}

// One network's parameters by name, with what the step needs beside them.
struct NetView {
  std::string net;  // "d" or "g"
  std::vector<std::string> names;
  std::vector<at::Tensor> params, before, grads;
  double lr = 0;
  int index(const std::string& name) const {
    auto it = std::find(names.begin(), names.end(), name);
    REQUIRE_MESSAGE(it != names.end(), net << ": no parameter " << name);
    return int(it - names.begin());
  }
};

NetView view_of(const std::string& net, torch::nn::Module& m) {
  NetView v;
  v.net = net;
  for (const auto& item : m.named_parameters()) {
    v.names.push_back(item.key());
    v.params.push_back(item.value());
    v.before.push_back(item.value().detach().clone());
  }
  return v;
}

struct CaseRun {
  std::string case_name;
  int iteration = 0;
  const json* fx = nullptr;
  const data::h5::File* h5 = nullptr;
  std::string prefix() const { return case_name + "/iter" + std::to_string(iteration) + "/"; }
};

void compare_tensor(Report& rep, const CaseRun& run, const std::string& qname, const json& e, const at::Tensor& cand,
                    const at::Tensor& before, double lr, const std::string& group, const std::vector<double>& v1,
                    const std::vector<double>& v2) {
  const std::string cls = e.at("cls"), form = e.at("form");
  const std::string where = run.prefix() + qname;
  const std::string key =
      cls == "forward" ? run.prefix() + "forward/" + qname : run.prefix() + cls + "/" + form + "/" + group;
  if (form == "none") {  // grad None in the reference: ours must be absent too
    rep.add(key, where, cand.defined() && cand.numel() > 0 ? std::numeric_limits<double>::infinity() : 0.0);
    return;
  }
  if (cls == "unchanged") {
    rep.add(key, where, std::abs((cand - before).abs().max().item<double>() - e.at("value").get<double>()));
    return;
  }
  const bool computed = cand.defined() && cand.numel() > 0;
  REQUIRE_MESSAGE(computed, where << ": the fixture records it, we computed nothing");
  const bool in_lr = cls == "param" || cls == "ema";
  if (form == "whole") {
    const at::Tensor r = read_tensor(*run.h5, e.at("dataset"));
    REQUIRE_MESSAGE(r.numel() == cand.numel(), where << ": " << cand.numel() << " elements, fixture " << r.numel());
    const at::Tensor c = cand.reshape(r.sizes());
    const double dev = in_lr ? p90_in_lr(c, r, lr) : rel(norm2(c.to(at::kDouble) - r.to(at::kDouble)), norm2(r));
    rep.add(key, where, dev);
    return;
  }
  REQUIRE_MESSAGE(form == "sig", where << ": unknown form " << form);
  const int64_t n = e.at("numel");
  REQUIRE(n == cand.numel());
  const test::Signature s = cls == "update" ? signature_f64(cand.to(at::kDouble) - before.to(at::kDouble), v1, v2)
                                            : test::signature_of(cand, v1, v2);
  const json& rs = e.at("signature");
  const double d = signature_distance(s, rs, n);
  rep.add(key, where, in_lr ? d / lr : rel(d, std::sqrt(rs.at(1).get<double>())));
}

void run_case(const std::string& case_name, const json& fx, const data::h5::File& h5, const fs::path& dir) {
  const json& c = fx.at("cases").at(case_name);
  INFO("case " << case_name);
  config::Curriculum cur = case_curriculum(fx, c);
  const json& s = fx.at("settings");
  REQUIRE_MESSAGE(s.at("surfacenet").at("zdim").get<int64_t>() == 18 * s.at("siren_hidden_dim").get<int64_t>(),
                  "our surface net's input is 18 x the SIREN width; the fixture's zdim differs");
  train::TrainState st;
  // The reference's own Adam groups (fix_unique_lr off): the fixture records which are non-empty.
  const train::LrPolicy lr{cur.globals.unique_lr, false};
  train::build_models(st, cur, lr, /*with_ema=*/true, torch::kCPU);
  set_formula_weights(*st.G, fx.at("weights").at("G"), "G");
  set_formula_weights(st.D.module(), fx.at("weights").at("D"), "D");
  {  // the EMAs start as the initial weights
    torch::NoGradGuard ng;
    const auto gp = st.G->parameters();
    for (size_t i = 0; i < gp.size(); ++i) {
      st.ema->shadow[i].copy_(gp[i]);
      st.ema2->shadow[i].copy_(gp[i]);
    }
  }
  {
    std::vector<int64_t> ours, theirs;
    for (const auto& g : st.opt_G->param_groups()) ours.push_back(int64_t(g.params().size()));
    for (const json& g : c.at("g_adam_groups"))
      if (g.at(1).get<int64_t>() > 0) theirs.push_back(g.at(1).get<int64_t>());
    CHECK_MESSAGE(ours == theirs, "G's Adam groups (non-empty sizes) differ from the reference's");
  }
  st.prior = model::make_light_prior(read_tensor(h5, "light_prior/mean"), read_tensor(h5, "light_prior/cov"), "fixture");
  st.prior.scale_tril = read_tensor(h5, "light_prior/scale_tril");  // the reference's factor, bit for bit
  st.lpips = fixture_lpips(fx, dir);
  st.capture = true;
  at::set_num_threads(s.at("torch_threads").get<int>());

  const uint64_t sig_seed = fx.at("signature").at("seed");
  int64_t longest = 0;
  for (const auto& p : st.G->parameters()) longest = std::max(longest, p.numel());
  for (const auto& p : st.D.module().parameters()) longest = std::max(longest, p.numel());
  longest = std::max<int64_t>(longest, 1 << 20);
  const std::vector<double> v1 = test::signature_vector(1, sig_seed, longest), v2 = test::signature_vector(2, sig_seed, longest);

  Report rep;
  rep.tolerances = &fx.at("tolerances");
  for (const json& it : c.at("iterations")) {
    CaseRun run{case_name, it.at("iteration").get<int>(), &fx, &h5};
    INFO("iteration " << run.iteration);
    const json& res_fx = it.at("resolved");
    const int64_t step = res_fx.at("step");
    const config::Resolved r = cur.at(step);
    st.step = step;  // the fixture may hold the curriculum step for both iterations

    // The schedules the step runs with (README step 1-3), exactly.
    const model::RenderOptions ro = train::training_render_options(r);
    auto same = [&](const char* what, double ours, double theirs) {
      CHECK_MESSAGE(std::abs(ours - theirs) <= 1e-12 * std::max(1.0, std::abs(theirs)),
                    what << ": ours " << ours << ", reference " << theirs);
    };
    same("delta", ro.delta, res_fx.at("delta"));
    same("num_steps", double(ro.num_steps), res_fx.at("num_steps"));
    same("nerf_noise", ro.nerf_noise, res_fx.at("nerf_noise"));
    same("l_ratio", ro.l_ratio, res_fx.at("l_ratio"));
    same("lr_ratio", train::lr_ratio(r), res_fx.at("lr_ratio"));

    // Every draw the reference made, in its order, each under our kind; the unstored ones (density
    // noise multiplied by nerf_noise = 0) as zeros.
    std::vector<std::string> expected_kinds;
    for (const json& d : it.at("draws")) {
      const std::string kind = d.at("kind");
      expected_kinds.push_back(kind);
      at::Tensor t = d.at("stored").get<bool>() ? read_tensor(h5, d.at("dataset")) : at::zeros(shape_of(d.at("shape")));
      st.draws.push(model::draw_from_name(kind), t);
    }
    std::vector<std::pair<model::Draw, at::Tensor>> taken;
    st.draws.record = &taken;
    const at::Tensor real = read_tensor(h5, run.prefix() + "real");

    NetView D = view_of("d", st.D.module()), G = view_of("g", *st.G);
    const train::StepResult res = train::train_step(st, r, real, lr);
    st.draws.record = nullptr;

    std::vector<std::string> taken_kinds;
    for (const auto& [k, t] : taken) taken_kinds.push_back(model::draw_name(k));
    CHECK_MESSAGE(taken_kinds == expected_kinds, "the step's random draws differ from the reference's in kind or order");
    for (const auto& [k, q] : st.draws.fixed) CHECK_MESSAGE(q.empty(), q.size() << " queued " << model::draw_name(k) << " draws left");

    same("alpha", res.alpha, res_fx.at("alpha"));
    same("lr_D", st.opt_D->param_groups().at(0).options().get_lr(), res_fx.at("lr_D"));
    same("lr_G[0]", st.opt_G->param_groups().at(0).options().get_lr(), res_fx.at("lr_G").at(0));
    CHECK(res.topk == it.at("topk_num").get<int64_t>());
    CHECK(st.ema->num_updates == it.at("ema_num_updates").get<int64_t>());
    CHECK(res.d_finite);
    CHECK(res.g_finite);

    for (const auto& [name, v] : it.at("scalars").items()) {
      const std::optional<double> ours = scalar_of(res, name);
      REQUIRE_MESSAGE(ours.has_value(), "the fixture records scalar " << name << ", StepResult has no such field");
      const double ref = v.get<double>();
      rep.add(run.prefix() + "scalar/" + name, run.prefix() + name, std::abs(*ours - ref) / std::max(std::abs(ref), 1e-6));
    }

    D.lr = res_fx.at("lr_D");
    G.lr = res_fx.at("lr_G").at(0);
    D.grads = st.captured.d_grads;
    G.grads = st.captured.g_grads;
    for (const auto& [qname, e] : it.at("tensors").items()) {
      const std::string cls = e.at("cls");
      const std::string kind = qname.substr(0, qname.find('/'));
      const std::string pname = qname.find('/') == std::string::npos ? "" : qname.substr(qname.find('/') + 1);
      if (cls == "forward") {
        auto f = st.captured.forward.find(qname);
        REQUIRE_MESSAGE(f != st.captured.forward.end(), "the step captured no forward tensor " << qname);
        compare_tensor(rep, run, qname, e, f->second, {}, 0, "", v1, v2);
        continue;
      }
      NetView& net = kind[0] == 'd' ? D : G;
      const int i = net.index(pname);
      const std::string group = group_of(net.net, pname);
      if (cls == "grad") {
        compare_tensor(rep, run, qname, e, net.grads.at(size_t(i)), {}, net.lr, group, v1, v2);
      } else if (cls == "param" || cls == "update" || cls == "unchanged") {
        compare_tensor(rep, run, qname, e, net.params[size_t(i)].detach(), net.before[size_t(i)], net.lr, group, v1, v2);
      } else if (cls == "ema") {
        compare_tensor(rep, run, qname, e, st.ema->shadow.at(size_t(i)), {}, G.lr, group, v1, v2);
      } else if (cls == "ema2_equal") {
        const double d = (st.ema2->shadow.at(size_t(i)) - st.ema->shadow.at(size_t(i))).abs().max().item<double>();
        rep.add(run.prefix() + "ema2_equal/scalar/" + group, run.prefix() + qname, std::abs(d - e.at("value").get<double>()));
      } else {
        FAIL("unknown quantity class " << cls << " of " << qname);
      }
    }
  }
  std::ostringstream summary;
  summary << case_name << ": " << rep.checked << " quantities, " << rep.failed << " outside tolerance; worst per key (dev / tol):";
  for (const auto& [key, w] : rep.worst) summary << "\n  " << key << "  " << w.dev << " / " << w.tol << "  " << w.where;
  MESSAGE(summary.str());
}

}  // namespace

TEST_CASE("train parity: every case of the training-step fixture replays the reference's iterations") {
  const fs::path dir = fixture_dir();
  const json fx = read_json(dir / "train_step.json");
  const data::h5::File h5 = data::h5::File::open_read((dir / "train_step.h5").string());
  REQUIRE(fx.at("settings").at("dtype") == "float32");
  REQUIRE(fx.at("settings").at("device") == "cpu");
  REQUIRE(!fx.at("cases").empty());
  const int threads = at::get_num_threads();
  for (const auto& [name, c] : fx.at("cases").items()) run_case(name, fx, h5, dir);
  at::set_num_threads(threads);
}
