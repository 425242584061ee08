#include "model/ema.h"

#include <doctest/doctest.h>

using namespace sg::model;

TEST_CASE("EMA warm-up follows torch_ema: d_t = min(decay, (1 + n) / (10 + n))") {
  CHECK(ema_decay_at(0.999, 1) == doctest::Approx(2.0 / 11.0));
  CHECK(ema_decay_at(0.999, 100) == doctest::Approx(101.0 / 110.0));
  // 0.999 is reached at update 8 990, 0.9999 at 89 990 (spec 6.6).
  CHECK(ema_decay_at(0.999, 8989) < 0.999);
  CHECK(ema_decay_at(0.999, 8990) == 0.999);
  CHECK(ema_decay_at(0.9999, 89989) < 0.9999);
  CHECK(ema_decay_at(0.9999, 89990) == 0.9999);
}

TEST_CASE("EMA update, store, copy_to and restore") {
  at::Tensor p = at::zeros({3});
  at::Tensor q = at::full({2, 2}, 4.0);
  Ema e = make_ema({p, q}, 0.999);
  p.fill_(1);
  q.fill_(0);
  ema_update(e, {p, q});  // d = 2/11: shadow = s - (9/11)(s - param)
  CHECK(e.num_updates == 1);
  CHECK(e.shadow[0][0].item<double>() == doctest::Approx(9.0 / 11.0));
  CHECK(e.shadow[1][0][0].item<double>() == doctest::Approx(4.0 * 2.0 / 11.0));
  ema_update(e, {p, q});  // d = 3/12
  CHECK(e.shadow[0][1].item<double>() == doctest::Approx(9.0 / 11.0 + 0.75 * (2.0 / 11.0)));

  ema_store(e, {p, q});
  ema_copy_to(e, {p, q});
  CHECK(p[0].item<double>() == doctest::Approx(e.shadow[0][0].item<double>()));
  ema_restore(e, {p, q});
  CHECK(p[2].item<double>() == 1);
  CHECK(q[1][1].item<double>() == 0);

  CHECK_THROWS(ema_update(e, {p}));
  CHECK_THROWS(ema_copy_to(e, {q, p}));
}
