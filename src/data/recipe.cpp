#include "data/recipe.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "config/toml_util.h"
#include "core/text.h"

namespace fs = std::filesystem;

namespace sg::data {

int Recipe::store_size() const { return steps.empty() ? 0 : steps.back().size; }

std::string Recipe::canonical() const {
  std::string s = "recipe1|" + name + "|" + pattern + "|" + flip;
  for (const auto& st : steps) s += "|" + st.op + ":" + std::to_string(st.size) + ":" + st.filter;
  return s;
}

Recipe load_recipe(const std::string& path) {
  using namespace config;
  const toml::table t = parse_toml_file(path);
  check_keys(path, t, {"name", "description", "pattern", "flip", "step"}, "");
  Recipe r;
  r.file = path;
  r.name = get_string(path, t, "name", "name").value_or(fs::path(path).stem().string());
  r.description = get_string(path, t, "description", "description").value_or("");
  r.pattern = get_string(path, t, "pattern", "pattern").value_or("*.jpg");
  r.flip = get_string(path, t, "flip", "flip").value_or("before_resize");
  if (r.flip != "before_resize" && r.flip != "after_resize")
    fail_at(path, *t.get("flip"), "flip", "expected \"before_resize\" or \"after_resize\"");
  const toml::array* steps = t["step"].as_array();
  if (!steps || steps->empty()) throw ConfigError(path + ": a recipe needs at least one [[step]]");
  for (const auto& node : *steps) {
    const toml::table* st = node.as_table();
    if (!st) fail_at(path, node, "step", "expected a table");
    check_keys(path, *st, {"op", "size", "filter"}, "step");
    RecipeStep s;
    s.op = get_string(path, *st, "op", "step.op").value_or("");
    const std::vector<std::string> ops = {"center_crop", "resize", "resize_shorter"};
    if (std::find(ops.begin(), ops.end(), s.op) == ops.end())
      fail_at(path, node, "step.op", unknown_name_message("op", s.op, ops));
    s.size = static_cast<int>(get_int(path, *st, "size", "step.size").value_or(0));
    if (s.size < 4 || s.size > 4096) fail_at(path, node, "step.size", "expected an integer in 4..4096");
    if (s.op != "center_crop") {
      s.filter = get_string(path, *st, "filter", "step.filter").value_or("bilinear");
      const std::vector<std::string> filters = {"bilinear", "nearest_pil"};
      if (std::find(filters.begin(), filters.end(), s.filter) == filters.end())
        fail_at(path, node, "step.filter", unknown_name_message("filter", s.filter, filters));
    } else if (st->get("filter")) {
      fail_at(path, *st->get("filter"), "step.filter", "center_crop takes no filter");
    }
    r.steps.push_back(s);
  }
  if (r.steps.back().op == "resize_shorter")
    throw ConfigError(path + ": the last step must give a square image (center_crop or resize)");
  return r;
}

Recipe find_recipe(const std::string& name_or_path, const std::vector<std::string>& dirs) {
  if (name_or_path.find('/') != std::string::npos || (name_or_path.size() > 5 &&
                                                         name_or_path.substr(name_or_path.size() - 5) == ".toml")) {
    if (!fs::exists(name_or_path)) throw ConfigError("recipe file '" + name_or_path + "' does not exist");
    return load_recipe(name_or_path);
  }
  std::set<std::string> names;
  for (const auto& d : dirs) {
    const fs::path p = fs::path(d) / (name_or_path + ".toml");
    if (fs::exists(p)) return load_recipe(p.string());
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(d, ec))
      if (e.path().extension() == ".toml") names.insert(e.path().stem().string());
  }
  std::string msg = unknown_name_message("dataset recipe", name_or_path, {names.begin(), names.end()});
  if (names.empty()) msg += " (no recipes found in: " + join(dirs, ", ") + ")";
  throw ConfigError(msg);
}

Image apply_recipe(const Recipe& r, Image img, int64_t max_pixels) {
  for (const auto& s : r.steps) {
    if (s.op == "center_crop") {
      if (img.width < s.size || img.height < s.size)
        throw RecipeSkip("too_small", std::to_string(img.width) + "x" + std::to_string(img.height) +
                                          " is smaller than the " + std::to_string(s.size) + " crop");
      if (img.width != s.size || img.height != s.size) img = center_crop(img, s.size);
    } else {
      int w = s.size, h = s.size;
      if (s.op == "resize_shorter") shorter_side_dims(img.width, img.height, s.size, &w, &h);
      if (w == img.width && h == img.height) continue;
      if (int64_t{w} * h > max_pixels)
        throw RecipeSkip("too_large", std::to_string(img.width) + "x" + std::to_string(img.height) + " " + s.op +
                                          " " + std::to_string(s.size) + " gives " + std::to_string(w) + "x" +
                                          std::to_string(h) + " pixels, over the limit of " +
                                          std::to_string(max_pixels) + " (max_image_pixels)");
      img = s.filter == "bilinear" ? resize_bilinear_pil(img, w, h) : resize_nearest_pil(img, w, h);
    }
  }
  return img;
}

}  // namespace sg::data
