// shadegan synth: the built-in synthetic dataset's definition (synth.toml), its light prior
// (light_prior.toml and the reference's torch-loadable {mean, cov} light_prior.pth), a preview
// sheet and, on request, every sample as an image file. The samples with their ground truth go
// into HDF5 through `shadegan shard --synth DIR` (or a shard stage after this one).
// Also the `synth` stage kind.
#include <ATen/ATen.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <cmath>
#include <filesystem>

#include "app/kind_command.h"
#include "config/curriculum.h"
#include "core/atomic_file.h"
#include "core/log.h"
#include "core/signals.h"
#include "data/light_prior.h"
#include "data/synth.h"
#include "data/synth_export.h"
#include "mpi/mpi.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const sg::data::CameraDist kReferenceCamera{};  // CelebA's keys (spec §1.3)

std::vector<sg::graph::ParamSpec> synth_params() {
  using sg::graph::ParamType;
  const auto& c = kReferenceCamera;
  return {
      {"count", ParamType::integer, 2000, "number of samples"},
      {"size", ParamType::integer, 64, "image side in pixels"},
      {"seed", ParamType::integer, 0, "every sample is a function of (seed, index)"},
      {"curriculum", ParamType::path, "",
       "curriculum whose camera keys (fov, ray_start/end, h/v mean and stddev, sample_dist) place the "
       "camera; when empty the explicit camera parameters below are used"},
      {"fov", ParamType::number, c.fov, "degrees (without a curriculum)"},
      {"ray_start", ParamType::number, c.ray_start, "(without a curriculum)"},
      {"ray_end", ParamType::number, c.ray_end, "(without a curriculum)"},
      {"h_mean", ParamType::number, c.h_mean, "yaw mean, radians (without a curriculum)"},
      {"v_mean", ParamType::number, c.v_mean, "pitch mean, radians (without a curriculum)"},
      {"h_stddev", ParamType::number, c.h_stddev, "(without a curriculum)"},
      {"v_stddev", ParamType::number, c.v_stddev, "(without a curriculum)"},
      {"sample_dist", ParamType::string, c.sample_dist, "camera distribution (without a curriculum)"},
      {"light_prior", ParamType::path, "", "TOML light prior {mean, cov}; empty: the built-in prior"},
      {"images", ParamType::string, "", "also export every sample's RGB as images/<index>.<png|jpg>"},
  };
}

sg::data::SynthParams params_from_json(const json& j) {
  sg::data::SynthParams p;
  p.count = j.at("count").get<int64_t>();
  p.size = static_cast<int>(j.at("size").get<int64_t>());
  const int64_t seed = j.at("seed").get<int64_t>();
  if (seed < 0) throw sg::ConfigError("synth: seed must be >= 0");
  p.seed = static_cast<uint64_t>(seed);
  const std::string curriculum = j.at("curriculum").get<std::string>();
  if (!curriculum.empty()) {
    const sg::config::Curriculum cur = sg::config::load_curriculum(curriculum);
    const auto& g = cur.globals;
    p.camera = {g.fov, g.ray_start, g.ray_end, g.h_mean, g.v_mean, g.h_stddev, g.v_stddev, g.sample_dist};
  } else {
    p.camera.fov = j.at("fov").get<double>();
    p.camera.ray_start = j.at("ray_start").get<double>();
    p.camera.ray_end = j.at("ray_end").get<double>();
    p.camera.h_mean = j.at("h_mean").get<double>();
    p.camera.v_mean = j.at("v_mean").get<double>();
    p.camera.h_stddev = j.at("h_stddev").get<double>();
    p.camera.v_stddev = j.at("v_stddev").get<double>();
    p.camera.sample_dist = j.at("sample_dist").get<std::string>();
  }
  const std::string prior = j.at("light_prior").get<std::string>();
  if (!prior.empty()) p.prior = sg::data::read_light_prior_toml(prior);
  sg::data::validate(p);
  return p;
}

// The reference's light_mvn file: a plain dict {"mean": (4,), "cov": (4, 4)} of float32 tensors,
// which Python's torch.load and our torch::pickle_load both read. Read back at once, so every
// run proves the file loads.
void write_prior_pth(const sg::data::LightPrior& prior, const std::string& path) {
  at::Tensor mean = at::empty({4}, at::kFloat), cov = at::empty({4, 4}, at::kFloat);
  for (int i = 0; i < 4; ++i) mean[i] = static_cast<float>(prior.mean[i]);
  for (int i = 0; i < 16; ++i) cov[i / 4][i % 4] = static_cast<float>(prior.cov[i]);
  c10::Dict<std::string, at::Tensor> dict;
  dict.insert("mean", mean);
  dict.insert("cov", cov);
  const std::vector<char> bytes = torch::jit::pickle_save(c10::IValue(dict));
  sg::write_file_atomic(path, std::string_view(bytes.data(), bytes.size()));

  const std::string back = sg::read_file(path);
  const auto loaded = torch::jit::pickle_load(std::vector<char>(back.begin(), back.end())).toGenericDict();
  const at::Tensor m2 = loaded.at("mean").toTensor(), c2 = loaded.at("cov").toTensor();
  if (!m2.equal(mean) || !c2.equal(cov)) throw sg::FormatError("light prior '" + path + "' does not read back equal");
}

void run_synth(const json& params, const std::string& out_dir) {
  sg::mpi::init();
  const int rank = sg::mpi::rank(), size = sg::mpi::size();
  sg::log::set_rank(rank, size);
  sg::install_stop_handlers();  // the image export stops between images (exit 75, resumable)
  const sg::data::SynthParams p = params_from_json(params);
  if (rank == 0) {
    sg::create_dirs(out_dir);
    sg::write_file_atomic((fs::path(out_dir) / "synth.toml").string(), sg::data::synth_toml(p));
    sg::write_file_atomic((fs::path(out_dir) / "light_prior.toml").string(),
                          sg::data::light_prior_toml(p.prior, "light prior of the synthetic set (synth.toml)"));
    write_prior_pth(p.prior, (fs::path(out_dir) / "light_prior.pth").string());
    sg::write_file_atomic((fs::path(out_dir) / "preview.png").string(), sg::data::synth_preview_png(p, 8));
    sg::log::info("synth: {} samples at {} px, seed {}, camera {} (fov {}, rays {}..{}) -> {}", p.count, p.size,
                  p.seed, p.camera.sample_dist, p.camera.fov, p.camera.ray_start, p.camera.ray_end, out_dir);
    sg::log::event("synth", {{"count", p.count}, {"size", p.size}, {"seed", p.seed}});
  }
  sg::mpi::barrier();
  const std::string images = params.at("images").get<std::string>();
  if (!images.empty()) {
    sg::data::export_synth_images(p, (fs::path(out_dir) / "images").string(), images);
    sg::mpi::barrier();
  }
}

const bool registered = [] {
  sg::app::KindCommand c;
  c.kind.name = "synth";
  c.kind.version = 1;
  c.kind.help = "Define the built-in synthetic dataset (synth.toml, light prior, preview; optionally export images)";
  c.kind.params = synth_params();
  c.kind.mpi = true;  // image export is split over ranks
  c.kind.check = [](const json& j) { params_from_json(j); };
  c.command_help = "Define the built-in synthetic dataset: synth.toml, light prior (.toml, .pth), preview";
  c.work = [](const json& params, const std::map<std::string, std::string>&, const std::string& out_dir, int) {
    run_synth(params, out_dir);
  };
  return sg::app::register_kind_command(std::move(c));
}();

}  // namespace
