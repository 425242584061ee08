#include "train/checkpoint.h"

#include <fmt/format.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <sstream>

#include "core/build_info.h"
#include "core/atomic_file.h"
#include "core/orphan_temps.h"
#include "core/error.h"
#include "core/log.h"
#include "mpi/mpi.h"
#include "weights/ema.h"
#include "weights/state_dict.h"

namespace fs = std::filesystem;

namespace sg::train {

std::string generator_state(const at::Generator& g) {
  at::Tensor s = g.get_state().contiguous();
  return std::string(static_cast<const char*>(s.data_ptr()), static_cast<size_t>(s.numel()));
}

void set_generator_state(at::Generator& g, const std::string& bytes, const std::string& source) {
  at::Tensor s = at::empty({static_cast<int64_t>(bytes.size())}, at::kByte);
  std::memcpy(s.data_ptr(), bytes.data(), bytes.size());
  if (!g.defined()) g = at::detail::createCPUGenerator(0);
  try {
    g.set_state(s);
  } catch (const c10::Error& e) {
    throw FormatError(source + ": not a random generator state (" + e.what_without_backtrace() + ")");
  }
}

namespace {

std::string optimizer_bytes(torch::optim::Optimizer& opt) {
  torch::serialize::OutputArchive ar;
  opt.save(ar);
  std::ostringstream os;
  ar.save_to(os);
  return os.str();
}

void load_optimizer(torch::optim::Optimizer& opt, const std::string& path, const torch::Device& device) {
  try {
    torch::serialize::InputArchive ar;
    std::istringstream is(read_file(path));
    ar.load_from(is, device);
    opt.load(ar);
  } catch (const c10::Error& e) {
    throw FormatError(path + ": cannot load the optimizer state (" + e.what_without_backtrace() + ")");
  }
}

weights::EmaState ema_state(const model::Ema& e) {
  weights::EmaState s;
  s.decay = e.decay;
  s.num_updates = e.num_updates;
  s.shadow_params = e.shadow;
  s.collected_params = e.collected;
  return s;
}

// Which parameters hold a gradient, in parameters() order: '1' one, '0' none. LibTorch 1.13's
// zero_grad() zeroes gradients but keeps them, so a parameter that took part in one backward
// holds a (zero) gradient for the rest of the process, e.g. the discriminator's fromRGB of a
// resolution the fade-in has left. That is training state: Adam steps every parameter holding a
// gradient, zero or not (its moments decay, its step count grows), and clip_grad_norm_ stacks one
// norm per such parameter, where two more zeros change how the stack's sum is rounded. A resumed
// process that lacked them drifted from the uninterrupted run 8 to 26 steps after the resume
// (tests/train/resume_stage_test.sh).
std::string grads_held(const std::vector<at::Tensor>& params) {
  std::string out;
  for (const auto& p : params) out += p.grad().defined() ? '1' : '0';
  return out;
}

// Gives exactly the parameters marked in `held` a zero gradient (and takes any other's away, for
// a rollback inside a process that holds more).
void hold_grads(const std::vector<at::Tensor>& params, const std::string& held, const std::string& source) {
  if (held.size() != params.size() || held.find_first_not_of("01") != std::string::npos)
    throw FormatError(source + fmt::format(": gradient flags for {} parameters, the model has {}", held.size(),
                                           params.size()));
  for (size_t i = 0; i < params.size(); ++i) {
    at::Tensor p = params[i];  // shares the parameter
    p.mutable_grad() = held[i] == '1' ? at::zeros_like(p) : at::Tensor();
  }
}

nlohmann::json loader_json(const data::LoaderState& s) { return {{"epoch", s.epoch}, {"cursor", s.cursor}}; }

void prune(const std::string& train_dir, int keep) {
  // Interrupted writes whose writer is gone and checkpoints beyond the newest `keep` trusted
  // ones. Called right after a checkpoint took its final name, so a .tmp-old- copy of a step
  // that exists is superseded, and one of a step that does not (list_checkpoints trusts it) is
  // kept. A write in progress of a live process is never touched, even if the train lock is
  // somehow shared (a file system whose flock is local to each node).
  const fs::path root = checkpoint_root(train_dir);
  for (const auto& e : fs::directory_iterator(root)) {
    const std::string n = e.path().filename().string();
    if (!e.is_directory() || n.rfind(".tmp-", 0) != 0) continue;
    if (n.rfind(kAsidePrefix, 0) == 0) {
      if (!fs::exists(root / n.substr(sizeof(kAsidePrefix) - 1))) continue;
    } else if (const int pid = temp_owner_pid(n); pid != ::getpid() && (pid < 0 || pid_alive(pid))) {
      continue;
    }
    fs::remove_all(e.path());
  }
  auto all = list_checkpoints(train_dir, false);
  for (size_t i = 0; i + static_cast<size_t>(std::max(keep, 1)) < all.size(); ++i) fs::remove_all(all[i].dir);
}

}  // namespace

std::string save_checkpoint(TrainState& st, const std::string& train_dir, const CheckpointExtras& x) {
  const int rank = mpi::rank(), world = mpi::size();
  const std::string name = checkpoint_name(st.step);
  const std::string final_dir = checkpoint_dir(train_dir, st.step);
  // Every rank's random stream and loader position travel to rank 0.
  const std::string rng = generator_state(st.draws.generator);
  const auto rngs = mpi::gather_strings(rng);
  const auto positions = mpi::gather_strings(loader_json(x.loader).dump());
  if (rank == 0) {
    create_dirs(checkpoint_root(train_dir));
    const std::string tmp = (fs::path(checkpoint_root(train_dir)) / fmt::format(".tmp-{}-{}", name, ::getpid())).string();
    fs::remove_all(tmp);
    create_dirs(tmp);
    // A write that fails (ENOSPC, EIO, quota) takes its partial directory with it: a full disk
    // must not stay full of a checkpoint nobody can use until the next success.
    struct RemoveOnFailure {
      const std::string& dir;
      bool armed = true;
      ~RemoveOnFailure() {
        std::error_code ec;
        if (armed) fs::remove_all(dir, ec);
      }
    } cleanup{tmp};
    auto path = [&](const char* f) { return (fs::path(tmp) / f).string(); };
    weights::write_state_dict(path("generator.pth"), weights::state_dict_of(*st.G));
    weights::write_state_dict(path("discriminator.pth"), weights::state_dict_of(st.D.module()));
    if (st.ema) {
      weights::write_ema(path("ema.pth"), ema_state(*st.ema));
      weights::write_ema(path("ema2.pth"), ema_state(*st.ema2));
    }
    write_file_atomic(path("optimizer_G.pt"), optimizer_bytes(*st.opt_G));
    write_file_atomic(path("optimizer_D.pt"), optimizer_bytes(*st.opt_D));
    nlohmann::json trainer = x.trainer;
    trainer["step"] = st.step;
    trainer["ranks"] = world;
    trainer["grads_held"] = {{"generator", grads_held(g_parameters(st))},
                             {"discriminator", grads_held(d_parameters(st))}};
    trainer["loader"] = nlohmann::json::array();
    for (int r = 0; r < world; ++r) {
      write_file_atomic(path(fmt::format("rng-rank{}.bin", r).c_str()), rngs[r]);
      trainer["loader"].push_back(nlohmann::json::parse(positions[r]));
    }
    write_file_atomic(path("trainer.json"), trainer.dump() + "\n");
    nlohmann::json meta = {{"step", st.step},
                           {"fingerprint", x.fingerprint},
                           {"time", log::now_iso8601()},
                           {"ranks", world},
                           {"program", program_json()},
                           {"files", describe_files(tmp)}};
    if (x.curriculum) meta["curriculum"] = x.curriculum->source_json();
    write_file_atomic(path("meta.json"), meta.dump(2) + "\n");
    if (fs::exists(final_dir)) {
      // The same step again (after a rollback, or a resumed run stopping at once): the new
      // state replaces the old one, which is moved aside first so a crash keeps one of them.
      const std::string aside = (fs::path(checkpoint_root(train_dir)) / (kAsidePrefix + name)).string();
      fs::remove_all(aside);
      fs::rename(final_dir, aside);
    }
    commit_dir(tmp, final_dir);
    cleanup.armed = false;
    write_file_atomic(latest_path(train_dir), name + "\n");
    prune(train_dir, x.keep);
  }
  mpi::barrier();
  return final_dir;
}

Restored load_checkpoint(TrainState& st, const CheckpointInfo& c, int rank) {
  auto path = [&](const std::string& f) { return (fs::path(c.dir) / f).string(); };
  torch::NoGradGuard ng;
  weights::load_into(*st.G, weights::read_state_dict(path("generator.pth")), path("generator.pth"), true);
  weights::load_into(st.D.module(), weights::read_state_dict(path("discriminator.pth")), path("discriminator.pth"),
                     true);
  if (st.ema) {
    for (auto [ema, file] : {std::pair{&*st.ema, "ema.pth"}, std::pair{&*st.ema2, "ema2.pth"}}) {
      const weights::EmaState s = weights::read_ema(path(file));
      if (s.shadow_params.size() != ema->shadow.size())
        throw FormatError(path(file) + fmt::format(": {} shadows, the generator has {} parameters",
                                                   s.shadow_params.size(), ema->shadow.size()));
      ema->decay = s.decay;
      ema->num_updates = s.num_updates;
      for (size_t i = 0; i < ema->shadow.size(); ++i) ema->shadow[i].copy_(s.shadow_params[i]);
      ema->collected = s.collected_params;
    }
  }
  load_optimizer(*st.opt_G, path("optimizer_G.pt"), st.device);
  load_optimizer(*st.opt_D, path("optimizer_D.pt"), st.device);
  Restored out;
  out.trainer = nlohmann::json::parse(read_file(path("trainer.json")));
  st.step = out.trainer.at("step").get<int64_t>();
  // Checkpoints from before "grads_held" resume without the zero gradients (and drift, above).
  if (const auto it = out.trainer.find("grads_held"); it != out.trainer.end()) {
    hold_grads(g_parameters(st), it->at("generator").get<std::string>(), path("trainer.json"));
    hold_grads(d_parameters(st), it->at("discriminator").get<std::string>(), path("trainer.json"));
  }
  const std::string rng = path(fmt::format("rng-rank{}.bin", rank));
  if (fs::exists(rng)) {
    set_generator_state(st.draws.generator, read_file(rng), rng);
    out.rng_restored = true;
  }
  const auto& loaders = out.trainer.at("loader");
  const auto& pos = loaders.at(std::min<size_t>(static_cast<size_t>(rank), loaders.size() - 1));
  out.loader.epoch = pos.at("epoch").get<int64_t>();
  out.loader.cursor = pos.at("cursor").get<int64_t>();
  return out;
}

}  // namespace sg::train
