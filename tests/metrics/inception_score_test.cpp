#include "metrics/inception_score.h"

#include <ATen/ATen.h>
#include <doctest/doctest.h>

#include "fixture_features.h"
#include "reference_fixture.h"

namespace fx = sg::metrics::fixture;
using namespace sg::metrics;

TEST_CASE("Inception Score of the fixture logits matches torch-fidelity to 1e-9") {
  for (const auto& [set, n] : {std::pair<const char*, int64_t>{"small", 500}, {"full", 10000}}) {
    const auto& want = fx::reference()[set]["values"]["isc"];
    const InceptionScoreResult r = inception_score(fx::logits(n, 1008));
    const auto scores = want["split_scores"].get<std::vector<double>>();
    REQUIRE(r.split_scores.size() == scores.size());
    for (size_t i = 0; i < scores.size(); ++i)
      CHECK(fx::relative_error(r.split_scores[i], scores[i]) < 1e-9);
    CHECK(fx::relative_error(r.mean, want["inception_score_mean"]) < 1e-9);
    CHECK(fx::relative_error(r.std, want["inception_score_std"]) < 1e-9);
  }
}

TEST_CASE("Inception Score of hand-made logits") {
  // Identical rows: p equals its split mean, every KL is 0, the score is exp(0) = 1.
  InceptionScoreOptions o;
  o.splits = 2;
  const InceptionScoreResult flat = inception_score(at::zeros({8, 5}), o);
  CHECK(flat.mean == doctest::Approx(1.0).epsilon(1e-15));
  CHECK(flat.std == doctest::Approx(0.0));
  // Near one-hot rows over 4 distinct classes per split, unshuffled: p ~ e_c, the split mean is
  // uniform over those 4, KL = log 4, the score is 4.
  at::Tensor logits = at::full({8, 4}, -200.0, at::kDouble);
  for (int64_t i = 0; i < 8; ++i) logits[i][i % 4] = 200.0;
  o.shuffle = false;
  const InceptionScoreResult sharp = inception_score(logits, o);
  CHECK(sharp.split_scores[0] == doctest::Approx(4.0).epsilon(1e-12));
  CHECK(sharp.split_scores[1] == doctest::Approx(4.0).epsilon(1e-12));
  // Uneven splits follow integer division: 7 rows in 2 splits are rows [0, 3) and [3, 7).
  // Rows 0..2 hit classes 0,1,2 (score 3); rows 3..6 hit classes 3,0,1,2 (score 4).
  const InceptionScoreResult uneven = inception_score(logits.slice(0, 0, 7), o);
  CHECK(uneven.split_scores[0] == doctest::Approx(3.0).epsilon(1e-12));
  CHECK(uneven.split_scores[1] == doctest::Approx(4.0).epsilon(1e-12));
  CHECK(uneven.std == doctest::Approx(0.5).epsilon(1e-12));
}
