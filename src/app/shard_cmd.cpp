// shadegan shard: an image folder (with a dataset recipe) or the synthetic generator into HDF5
// shards, in parallel under mpirun; resumable. Also the `shard` stage kind: with no `source`
// it shards the synthetic set defined by an input stage of kind synth.
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "app/command.h"
#include "core/error.h"
#include "core/log.h"
#include "core/signals.h"
#include "data/recipe.h"
#include "data/shard_source.h"
#include "data/sharder.h"
#include "graph/kind.h"
#include "mpi/mpi.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::vector<sg::graph::ParamSpec> shard_params() {
  using sg::graph::ParamType;
  return {
      {"source", ParamType::string, "",
       "image glob (data/celeba/*.jpg) or directory; empty in a pipeline: the synth stage it runs after"},
      {"synth", ParamType::path, "", "directory written by `shadegan synth` (instead of source)"},
      {"recipe", ParamType::string, "", "dataset recipe name (datasets/<name>.toml) or .toml path; for source"},
      {"shard_size", ParamType::integer, 256, "items per shard file"},
      {"deflate", ParamType::integer, 0, "zlib level 0..9 for image chunks (0: uncompressed)"},
      {"verify", ParamType::boolean, false, "rehash kept shards instead of trusting marker and size"},
  };
}

// Where recipe names are looked up: $SHADEGAN_DATASETS, then datasets/ beside or above the binary.
std::vector<std::string> recipe_dirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("SHADEGAN_DATASETS")) dirs.emplace_back(env);
  const fs::path exe = fs::path(sg::app::self_exe()).parent_path();
  for (const fs::path& d : {exe / "datasets", exe / ".." / "datasets", exe / ".." / "share" / "shadegan" / "datasets"})
    if (fs::is_directory(d)) dirs.push_back(d.lexically_normal().string());
  return dirs;
}

void run_shard(const json& params, const std::map<std::string, std::string>& inputs, const std::string& out_dir) {
  sg::mpi::init();
  sg::log::set_rank(sg::mpi::rank(), sg::mpi::size());
  sg::install_stop_handlers();
  std::string source = params.at("source").get<std::string>();
  std::string synth = params.at("synth").get<std::string>();
  const std::string recipe = params.at("recipe").get<std::string>();
  if (source.empty() && synth.empty()) {
    for (const auto& [name, dir] : inputs)
      if (fs::exists(fs::path(dir) / "synth.toml")) synth = dir;
    if (synth.empty())
      throw sg::ConfigError("shard: give `source` (an image glob) with `recipe`, or `synth` (a synth directory)");
  }
  if (!source.empty() && !synth.empty()) throw sg::ConfigError("shard: give either `source` or `synth`, not both");
  sg::data::ShardSource src;
  if (!synth.empty()) {
    if (!recipe.empty()) throw sg::ConfigError("shard: `recipe` applies to `source` images, not to `synth`");
    src = sg::data::synth_source(sg::data::read_synth_toml((fs::path(synth) / "synth.toml").string()));
  } else {
    if (recipe.empty()) throw sg::ConfigError("shard: `source` needs a `recipe` (e.g. celeba, cats, bfm)");
    src = sg::data::files_source(source, sg::data::find_recipe(recipe, recipe_dirs()));
  }
  sg::data::ShardOptions opt;
  opt.out_dir = out_dir;
  opt.shard_size = params.at("shard_size").get<int64_t>();
  opt.deflate = static_cast<int>(params.at("deflate").get<int64_t>());
  opt.verify = params.at("verify").get<bool>();
  sg::data::run_sharding(src, opt);
}

const bool kind_registered = [] {
  sg::graph::KindSpec k;
  k.name = "shard";
  k.version = 1;
  k.help = "Image folder (with a recipe) or the synthetic set into HDF5 shards, over MPI ranks";
  k.params = shard_params();
  k.mpi = true;
  k.run = [](const sg::graph::StageContext& ctx) { run_shard(ctx.params, ctx.inputs, ctx.stage_dir); };
  sg::graph::register_kind(std::move(k));
  return true;
}();

const bool registered = sg::app::register_command(
    {"shard", "Shard an image folder (with a dataset recipe) or a synthetic set into HDF5, over MPI ranks",
     [](CLI::App& sub) -> sg::app::Runner {
       auto out = std::make_shared<std::string>();
       auto j = std::make_shared<json>();
       for (const auto& s : shard_params()) (*j)[s.name] = s.default_value;
       sub.add_option("-o,--out", *out, "Output directory (shards, manifest.json)")->required();
       auto source = std::make_shared<std::string>(), synth = std::make_shared<std::string>(),
            recipe = std::make_shared<std::string>();
       auto shard_size = std::make_shared<int64_t>(256), deflate = std::make_shared<int64_t>(0);
       auto verify = std::make_shared<bool>(false);
       sub.add_option("--source", *source, "Image glob (quote it) or directory");
       sub.add_option("--recipe", *recipe, "Dataset recipe: name (celeba, cats, bfm, synth) or .toml path");
       sub.add_option("--synth", *synth, "Directory written by `shadegan synth`");
       sub.add_option("--shard-size", *shard_size, "Items per shard file")->capture_default_str();
       sub.add_option("--deflate", *deflate, "zlib level 0..9 for image chunks (0: uncompressed)")->capture_default_str();
       sub.add_flag("--verify", *verify, "Rehash kept shards instead of trusting marker and size");
       return [=] {
         json p = *j;
         p["source"] = *source;
         p["synth"] = synth->empty() ? "" : fs::absolute(*synth).lexically_normal().string();
         p["recipe"] = *recipe;
         p["shard_size"] = *shard_size;
         p["deflate"] = *deflate;
         p["verify"] = *verify;
         run_shard(p, {}, *out);
         return 0;
       };
     }});

}  // namespace
