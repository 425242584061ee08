#include "graph/fingerprint.h"

#include <doctest/doctest.h>

#include "test_kinds.h"

using sg::graph::fingerprint;

TEST_CASE("a fingerprint is stable: same inputs, same value, across builds") {
  const nlohmann::json params = {{"steps", 100}, {"lr", 2e-5}, {"name", "celeba"}};
  const std::string fp = fingerprint("train", 3, params, {{"shard", "00ff"}});
  CHECK(fp.size() == 32);
  CHECK(fp == fingerprint("train", 3, params, {{"shard", "00ff"}}));
  // Pinned: a change here reruns every finished stage of every user, so it must be deliberate
  // (and then bump "shadegan-stage/1" in fingerprint.cpp).
  CHECK(fp == "3c5813be50ab198f181efcb9b089e31c");
  // Key order in the JSON does not matter: objects are canonical.
  nlohmann::json reordered;
  reordered["name"] = "celeba";
  reordered["lr"] = 2e-5;
  reordered["steps"] = 100;
  CHECK(fingerprint("train", 3, reordered, {{"shard", "00ff"}}) == fp);
}

TEST_CASE("a fingerprint changes with each thing it covers") {
  const nlohmann::json params = {{"steps", 100}, {"lr", 2e-5}};
  const std::string fp = fingerprint("train", 3, params, {{"shard", "00ff"}});
  CHECK(fingerprint("render", 3, params, {{"shard", "00ff"}}) != fp);
  CHECK(fingerprint("train", 4, params, {{"shard", "00ff"}}) != fp);
  CHECK(fingerprint("train", 3, {{"steps", 101}, {"lr", 2e-5}}, {{"shard", "00ff"}}) != fp);
  CHECK(fingerprint("train", 3, {{"steps", 100}, {"lr", 2.00001e-5}}, {{"shard", "00ff"}}) != fp);
  CHECK(fingerprint("train", 3, {{"steps", "100"}, {"lr", 2e-5}}, {{"shard", "00ff"}}) != fp);
  CHECK(fingerprint("train", 3, params, {{"shard", "00fe"}}) != fp);
  CHECK(fingerprint("train", 3, params, {{"shards", "00ff"}}) != fp);
  CHECK(fingerprint("train", 3, params, {}) != fp);
}

TEST_CASE("stage fingerprints ignore the stage's name and rank count, and 1 == 1.0 for numbers") {
  const auto a = sg_test::graph_of("[[stage]]\nname = \"one\"\nkind = \"t_gen\"\nlabel = \"x\"\nscale = 1\n");
  const auto b = sg_test::graph_of("[[stage]]\nname = \"two\"\nkind = \"t_gen\"\nlabel = \"x\"\nscale = 1.0\n");
  CHECK(a.stages[0].fingerprint == b.stages[0].fingerprint);
  const auto c = sg_test::graph_of("[[stage]]\nname = \"one\"\nkind = \"t_gen\"\nlabel = \"x\"\nscale = 1.5\n");
  CHECK(a.stages[0].fingerprint != c.stages[0].fingerprint);
  // Writing a default explicitly is the same as leaving it out.
  const auto d = sg_test::graph_of("[[stage]]\nname = \"one\"\nkind = \"t_gen\"\nlabel = \"x\"\nsize = 4\n");
  CHECK(a.stages[0].fingerprint == d.stages[0].fingerprint);
}
