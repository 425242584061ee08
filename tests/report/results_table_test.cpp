#include "report/results_table.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_file.h"
#include "report/base64.h"

using namespace sg::report;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string scratch(const std::string& name) {
  const char* base = std::getenv("SG_TEST_TMP");
  const fs::path dir = fs::path(base ? base : "/tmp") / "report" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

void make_run(const std::string& dir, const json& point, const json* metrics,
              const json& skipped = json::object()) {
  fs::create_directories(dir);
  if (!point.is_null())
    sg::write_json_atomic(dir + "/sweep.json", {{"sweep", "cmp"}, {"run", fs::path(dir).filename()}, {"point", point}});
  if (metrics)
    sg::write_json_atomic(dir + "/eval/metrics.json",
                          {{"metrics", *metrics}, {"skipped", skipped}, {"settings", json::object()}});
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("the table groups seeds into mean and sample std and lists missing and partial runs") {
  const std::string root = scratch("table");
  const json m1 = {{"fid", 10.0}, {"normal_angle_deg", 20.0}};
  const json m2 = {{"fid", 14.0}, {"normal_angle_deg", 22.0}};
  const json m3 = {{"fid", 30.0}, {"normal_angle_deg", 12.0}};
  const json m4 = {{"normal_angle_deg", 15.0}};  // FID skipped
  make_run(root + "/runs/cmp-000", {{"train.curriculum", "pigan"}, {"train.seed", 0}}, &m1);
  make_run(root + "/runs/cmp-001", {{"train.curriculum", "pigan"}, {"train.seed", 1}}, &m2);
  make_run(root + "/runs/cmp-002", {{"train.curriculum", "shadegan"}, {"train.seed", 0}}, &m3);
  make_run(root + "/runs/cmp-003", {{"train.curriculum", "shadegan"}, {"train.seed", 1}}, &m4,
           {{"fid", "no Inception weights"}, {"is", "no Inception weights"}, {"kid", "fewer than 2 images"}});
  make_run(root + "/runs/cmp-004", {{"train.curriculum", "nerf"}, {"train.seed", 0}}, nullptr);

  const auto dirs = expand_run_patterns({"runs/cmp-*", "runs/never-ran"}, root);
  REQUIRE(dirs.size() == 6);
  CHECK(dirs.back() == root + "/runs/never-ran");  // kept as a literal: listed as missing
  std::vector<RunResults> runs;
  for (const auto& d : dirs) runs.push_back(read_run_results(d, "eval/metrics.json"));
  CHECK(runs[3].status == RunStatus::partial);
  CHECK(runs[4].status == RunStatus::missing);

  const Table t = build_table(runs, "cmp", "normal_angle_deg");
  CHECK(t.params == std::vector<std::string>{"train.curriculum"});
  CHECK(t.seed_keys == std::vector<std::string>{"train.seed"});
  CHECK(t.metrics == std::vector<std::string>{"fid", "normal_angle_deg"});
  REQUIRE(t.rows.size() == 4);  // pigan, shadegan, nerf, never-ran (no sweep point: own row)
  // Sorted by normal angle ascending: shadegan (13.5) before pigan (21); rows without it last.
  CHECK(t.rows[0].point["train.curriculum"] == "shadegan");
  CHECK(t.rows[0].metrics.at("normal_angle_deg").mean == doctest::Approx(13.5));
  CHECK(t.rows[0].metrics.at("normal_angle_deg").std == doctest::Approx(std::sqrt(4.5)));
  CHECK(t.rows[0].metrics.at("fid").n == 1);
  CHECK(t.rows[0].metrics.at("fid").mean == doctest::Approx(30.0));
  // Metrics skipped for one reason share it.
  CHECK(contains(t.rows[0].status, "cmp-003 partial: skipped: fid, is (no Inception weights); kid (fewer than 2 images)"));
  CHECK(t.rows[1].point["train.curriculum"] == "pigan");
  CHECK(t.rows[1].metrics.at("fid").mean == doctest::Approx(12.0));
  CHECK(t.rows[1].metrics.at("fid").std == doctest::Approx(std::sqrt(8.0)));
  CHECK(t.rows[1].status == "ok");
  CHECK(t.rows[2].metrics.at("fid").n == 0);
  CHECK(contains(t.rows[2].status, "cmp-004 missing: no eval/metrics.json"));
  CHECK(contains(t.rows[3].status, "never-ran missing: no such run directory"));

  const std::string out = root + "/results/cmp";
  write_table(t, out);
  const std::string csv = sg::read_file(out + "/table.csv");
  CHECK(contains(csv, "train.curriculum,runs,n_runs,status,fid,fid_seed_std,fid_n,normal_angle_deg"));
  CHECK(contains(csv, "pigan,cmp-000 cmp-001,2,ok,12,2.8284271247461903,2,21,1.4142135623730951,2"));
  const std::string md = sg::read_file(out + "/table.md");
  CHECK(contains(md, "| pigan | cmp-000 cmp-001 | 12 ± 2.8 | 21 ± 1.4 | ok |"));
  CHECK(contains(md, "| nerf | cmp-004 | — | — | cmp-004 missing"));
  const json j = sg::read_json(out + "/table.json");
  CHECK(j["runs"].size() == 6);
  CHECK(j["rows"][1]["metrics"]["fid"]["mean"].get<double>() == doctest::Approx(12.0));
  CHECK(j["rows"][2]["metrics"]["fid"]["mean"].is_null());
  const std::string html = sg::read_file(out + "/table.html");
  CHECK(contains(html, "<td class=\"l\">cmp-004</td>"));
  CHECK(contains(html, "never-ran <small>(missing)</small>"));
}

TEST_CASE("an unknown sort key lists the valid ones, descending order with a minus sign") {
  const std::string root = scratch("sort");
  const json a = {{"fid", 1.0}}, b = {{"fid", 2.0}};
  make_run(root + "/a", nullptr, &a);
  make_run(root + "/b", nullptr, &b);
  std::vector<RunResults> runs = {read_run_results(root + "/a", "eval/metrics.json"),
                                  read_run_results(root + "/b", "eval/metrics.json")};
  CHECK(build_table(runs, "x", "-fid").rows[0].runs[0] == 1);
  try {
    build_table(runs, "x", "fdi");
    FAIL("expected a ConfigError");
  } catch (const sg::ConfigError& e) {
    CHECK(contains(e.what(), "fdi"));
    CHECK(contains(e.what(), "fid"));
  }
}

TEST_CASE("unreadable metrics and images: the run is listed, and a PNG is embedded as data URI") {
  const std::string root = scratch("images");
  fs::create_directories(root + "/r/eval");
  sg::write_file_atomic(root + "/r/eval/metrics.json", "{not json");
  sg::write_file_atomic(root + "/r/train/samples/step-0000100.png", "OLD");
  sg::write_file_atomic(root + "/r/train/samples/step-0000300.png", "PNGDATA");
  sg::write_file_atomic(root + "/r/train/loss_curve.png", "LOSS");
  RunResults r = read_run_results(root + "/r", "eval/metrics.json");
  CHECK(r.status == RunStatus::unreadable);
  CHECK(r.sample_image == root + "/r/train/samples/step-0000300.png");
  const Table t = build_table({r}, "img", "");
  const std::string html = table_html(t);
  CHECK(contains(html, "data:image/png;base64," + base64_encode("PNGDATA")));
  CHECK(contains(html, "data:image/png;base64," + base64_encode("LOSS")));
  CHECK(contains(t.rows[0].status, "r unreadable: eval/metrics.json"));
}

TEST_CASE("base64 of the RFC 4648 test vectors") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
}

TEST_CASE("a metrics glob gives one row per eval stage of a run, the stage as a column") {
  const std::string root = scratch("stages");
  for (const auto& [stage, angle] : {std::pair{"eval_pigan", 30.0}, std::pair{"eval_shadegan", 20.0}})
    sg::write_json_atomic(root + "/cmp/" + stage + "/metrics.json",
                          {{"metrics", {{"normal_angle_deg", angle}}}, {"skipped", json::object()}});
  fs::create_directories(root + "/empty");
  const auto runs = read_runs({root + "/cmp", root + "/empty"}, "eval*/metrics.json");
  REQUIRE(runs.size() == 3);
  CHECK(runs[0].name == "cmp/eval_pigan");
  CHECK(runs[1].point["stage"] == "eval_shadegan");
  CHECK(runs[2].status == RunStatus::missing);
  const Table t = build_table(runs, "cmp", "normal_angle_deg");
  CHECK(t.params == std::vector<std::string>{"stage"});
  CHECK(t.rows[0].point["stage"] == "eval_shadegan");
  CHECK(t.rows.size() == 3);
}

TEST_CASE("the learning measure's reference points: read, printed once per distinct set, in every format") {
  const std::string root = scratch("references");
  const json refs = {{"untrained", {{"kid_random_features", 0.25}, {"silhouette_kid", 0.125}, {"silhouette_iou", 0.3},
                                    {"silhouette_kid_std", 0.01}}},
                     {"real_vs_real", {{"kid_random_features", 0.001}, {"silhouette_kid", -0.0005}, {"silhouette_iou", 0.8}}},
                     {"note", "not numbers: ignored"}};
  const json other = {{"untrained", {{"kid_random_features", 0.5}}}, {"real_vs_real", {{"kid_random_features", 0.002}}}};
  auto write = [&](const std::string& run, double score, const json& r) {
    sg::write_json_atomic(root + "/" + run + "/eval/metrics.json",
                          {{"metrics", {{"learning_score", score}, {"kid_random_features", 0.1}, {"fid", 3.0}}},
                           {"skipped", json::object()},
                           {"reference_points", r}});
  };
  write("a", 0.6, refs);
  write("b", 0.7, refs);
  write("c", 0.2, other);
  std::vector<RunResults> runs;
  for (const char* r : {"a", "b", "c"}) runs.push_back(read_run_results(root + "/" + r, "eval/metrics.json"));
  CHECK(runs[0].reference_points["untrained"]["silhouette_kid"].get<double>() == 0.125);
  CHECK(!runs[0].reference_points.contains("note"));
  const Table t = build_table(runs, "refs", "-learning_score");
  // Known columns first, in the reader's order: fid, then the learning measure.
  CHECK(t.metrics == std::vector<std::string>{"fid", "learning_score", "kid_random_features"});
  CHECK(t.rows[0].runs[0] == 1);  // b: the best score first
  const auto groups = reference_groups(t);
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].runs == std::vector<std::string>{"a", "b"});
  CHECK(groups[1].runs == std::vector<std::string>{"c"});
  const std::string md = table_markdown(t);
  CHECK(contains(md, "## Learning measure: where 0 and 100% are"));
  CHECK(contains(md, "| runs | reference | kid_random_features | silhouette_kid | silhouette_iou |"));
  CHECK(contains(md, "| a b | untrained generator (0%) | 0.25 | 0.125 | 0.3 |"));
  CHECK(contains(md, "| a b | real vs real (100%) | 0.001 | -0.0005 | 0.8 |"));
  CHECK(contains(md, "| c | untrained generator (0%) | 0.5 | — | — |"));
  const std::string html = table_html(t);
  CHECK(contains(html, "<td class=\"l\">real vs real (100%)</td><td>0.001</td><td>-0.0005</td><td>0.8</td>"));
  CHECK(table_json(t)["runs"][2]["reference_points"]["untrained"]["kid_random_features"].get<double>() == 0.5);
  // A table of runs without reference points has no such section.
  const json plain = {{"fid", 1.0}};
  make_run(root + "/p", nullptr, &plain);
  CHECK(!contains(table_markdown(build_table({read_run_results(root + "/p", "eval/metrics.json")}, "p", "")),
                  "Learning measure"));
}

TEST_CASE("runs evaluated with different settings are separate rows, each naming its settings") {
  const std::string root = scratch("settings");
  // Two seeds evaluated alike, a third seed evaluated with more shape images: same sweep point.
  auto run = [&](const std::string& name, int seed, int shape_images, double angle) {
    const std::string dir = root + "/runs/" + name;
    fs::create_directories(dir);
    sg::write_json_atomic(dir + "/sweep.json",
                          {{"sweep", "s"}, {"run", name}, {"point", {{"train.lr", 1}, {"train.seed", seed}}}});
    const json settings = {{"num_images", 64}, {"real_images", 32}, {"params", {{"img_size", 32}, {"input", "torch-fidelity"}}},
                           {"shape", {{"images", shape_images}, {"steps", 100}, {"img_size", 16}}},
                           {"learning", {{"images", 128}, {"img_size", 32}}}};
    sg::write_json_atomic(dir + "/eval/metrics.json", {{"metrics", {{"normal_angle_deg", angle}, {"fid", 12.0}}},
                                                       {"skipped", json::object()}, {"settings", settings}});
    return read_run_results(dir, "eval/metrics.json");
  };
  std::vector<RunResults> runs = {run("a", 0, 16, 30.0), run("b", 1, 16, 40.0), run("c", 2, 64, 90.0)};
  CHECK(runs[0].eval_settings ==
        "fid/kid/is: 64 fakes, 32 reals, 32 px, torch-fidelity; shape: 16 images, 100 steps, 16 px; "
        "learning: 128 images, 32 px");
  const Table t = build_table(runs, "s", "normal_angle_deg");
  REQUIRE(t.rows.size() == 2);  // not one row averaging 30, 40 and 90
  CHECK(t.rows[0].runs.size() == 2);
  CHECK(t.rows[0].metrics.at("normal_angle_deg").mean == doctest::Approx(35));
  CHECK(t.rows[1].metrics.at("normal_angle_deg").mean == doctest::Approx(90));
  CHECK(contains(table_csv(t), "shape: 64 images"));
  CHECK(contains(table_markdown(t), "| eval settings |"));
  CHECK(eval_settings_text(json::object()).empty());
  // Without an Inception metric (no weights: skipped), the row does not claim its settings.
  const std::string dir = root + "/runs/d";
  sg::write_json_atomic(dir + "/eval/metrics.json",
                        {{"metrics", {{"normal_angle_deg", 1.0}}}, {"skipped", {{"fid", "no weights"}}},
                         {"settings", {{"num_images", 64}, {"params", {{"img_size", 32}, {"input", "torch-fidelity"}}},
                                       {"shape", {{"images", 16}, {"steps", 100}, {"img_size", 16}}}}}});
  CHECK(read_run_results(dir, "eval/metrics.json").eval_settings == "shape: 16 images, 100 steps, 16 px");
}

TEST_CASE("a long reason for skipped metrics is printed once under the Markdown and HTML tables, each row citing it") {
  const std::string root = scratch("notes");
  const std::string weights =
      "no Inception weights given or found (looked for /root/.cache/torch/hub/checkpoints/pt_inception.pth); "
      "put the file there or set inception_weights";
  auto skipped = [&](bool long_reason) {
    return json{{"fid", weights}, {"is", weights}, {"kid", long_reason ? weights : "fewer than 2 images"}};
  };
  const json m = {{"normal_angle_deg", 20.0}};
  make_run(root + "/a", {{"train.lr", 1}}, &m, skipped(true));
  make_run(root + "/b", {{"train.lr", 2}}, &m, skipped(false));
  std::vector<RunResults> runs = {read_run_results(root + "/a", "eval/metrics.json"),
                                  read_run_results(root + "/b", "eval/metrics.json")};
  const Table t = build_table(runs, "notes", "");
  REQUIRE(t.rows.size() == 2);
  REQUIRE(t.notes == std::vector<std::string>{weights});
  CHECK(t.rows[0].status_noted == "a partial: skipped: fid, is, kid [1]");
  CHECK(t.rows[1].status_noted == "b partial: skipped: fid, is [1]; kid (fewer than 2 images)");
  auto count = [](const std::string& s, const std::string& part) {
    int n = 0;
    for (size_t at = s.find(part); at != std::string::npos; at = s.find(part, at + 1)) ++n;
    return n;
  };
  const std::string md = table_markdown(t), html = table_html(t), csv = table_csv(t);
  CHECK(count(md, weights) == 1);
  CHECK(contains(md, "\n[1] " + weights + "\n"));
  CHECK(contains(md, "| a partial: skipped: fid, is, kid [1] |"));
  CHECK(count(html, "looked for /root/.cache/torch/hub/checkpoints/pt_inception.pth") == 1);
  CHECK(contains(html, "<p>[1] no Inception weights"));
  // The machine-readable forms keep every row's status whole.
  CHECK(count(csv, weights) == 2);
  CHECK(t.rows[0].status == "a partial: skipped: fid, is, kid (" + weights + ")");
}
