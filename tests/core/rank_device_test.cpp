// Each rank of a node takes its own GPU: the mapping from the launcher's local rank, no GPU needed.
#include <doctest/doctest.h>

#include "core/rank_device.h"

TEST_CASE("the local rank comes from mpirun, else srun, else is 0") {
  CHECK(sg::local_rank_from("3", "1") == 3);        // mpirun's wins (srun may have started mpirun's daemons)
  CHECK(sg::local_rank_from(nullptr, "1") == 1);    // srun alone
  CHECK(sg::local_rank_from(nullptr, nullptr) == 0);
  CHECK(sg::local_rank_from("", "2") == 2);
  CHECK(sg::local_rank_from("x", nullptr) == 0);
  CHECK(sg::local_rank_from("-1", "5") == 5);
}

TEST_CASE("device = cuda: local rank modulo the device count, cpu and cuda:N as given") {
  CHECK(sg::rank_device("cuda", 0, 4) == "cuda:0");
  CHECK(sg::rank_device("cuda", 1, 4) == "cuda:1");
  CHECK(sg::rank_device("cuda", 3, 4) == "cuda:3");
  CHECK(sg::rank_device("cuda", 5, 4) == "cuda:1");  // more ranks than GPUs: shared round-robin
  CHECK(sg::rank_device("cuda", 1, 1) == "cuda:0");
  CHECK(sg::rank_device("cuda:2", 1, 4) == "cuda:2");
  CHECK(sg::rank_device("cpu", 3, 4) == "cpu");
  CHECK(sg::rank_device("cuda", 1, 0) == "cuda");
}
