#!/usr/bin/python3
"""The reference's speed on this machine, for tests/bench/reference_bench.sh (issue 23): seconds per
training iteration of the REFERENCE ShadeGAN (XingangPan/ShadeGAN at 154e897, imported from a checkout
the user names, never copied) at CelebA_ShadeGAN_view's step 0 with the batch bench_train's
`celeba-32px-b4` case uses: 32 px, batch 4, batch_split 1, 12+12 samples per ray, SIREN width 256,
the surface net and its depth loss (L1 + LPIPS-VGG), R1, the pose loss, top-k, clipping, Adam, two
EMAs. The loop body is tests/fixtures/gen/make_train_step_fixture.py's transcription of train.py
(float32, no amp: autocast is CUDA-only, so on a CPU the reference runs exactly this). Weights are
the reference's own initialisation; LPIPS's VGG is randomly initialised (same FLOPs as the
pretrained one). One warm-up iteration, then --iters timed ones.

usage: reference_train_bench.py <reference checkout> [--iters N] [--threads T] [--batch B]
prints one line: "sec_per_iter cpu_s_per_iter"
"""
import argparse
import os
import resource
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "gen"))
import make_train_step_fixture as mt  # noqa: E402


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("reference")
    ap.add_argument("--iters", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=4)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    R = mt.load_reference(a.reference)
    gg, dec, gu, dd, ss, curriculums, lpips = R

    class Args:  # what mt.Models reads: the official sizes
        hidden_dim = 256
        surface_nf = 16

    # mt.Models overwrites the weights from a fixture template; the bench keeps the reference's
    # own initialisation instead, so it builds the same objects without that step.
    tmpd = tempfile.mkdtemp()
    mvn = os.path.join(tmpd, "mvn.pth")
    torch.save({"mean": torch.tensor([0.2, 0.35, 0.1, 0.25]), "cov": torch.eye(4) * 0.05}, mvn)
    M = mt.Models.__new__(mt.Models)
    M.ldist = gu.LSampler(device="cpu", mvn_path=mvn)
    import functools
    M.G = gg.ImplicitGenerator3d(functools.partial(ss.SPATIALSIRENBASELINE, hidden_dim=Args.hidden_dim), 256,
                                 True, True, True, True, ldist=M.ldist)
    M.D = dd.ProgressiveEncoderDiscriminator()
    M.loss = lpips.PerceptualLoss(model="net-lin", net="vgg", use_gpu=False)
    M.G.set_device("cpu")
    names = lambda net: [n for n, _ in net.named_parameters()]  # noqa: E731
    map_names, surf_names = names(M.G.siren.mapping_network), names(M.G.surfacenet)
    M.opt_G = torch.optim.Adam(
        [{"params": [p for n, p in M.G.named_parameters() if n not in [map_names + surf_names]], "name": "generator"},
         {"params": [p for n, p in M.G.named_parameters() if n in surf_names], "name": "surfacenet"},
         {"params": [p for n, p in M.G.named_parameters() if n in map_names], "name": "mapping_network"}],
        lr=2e-5, betas=(0, 0.9), weight_decay=0)
    M.opt_D = torch.optim.Adam(M.D.parameters(), lr=2e-4, betas=(0, 0.9), weight_decay=0)
    M.ema = [[p.detach().clone() for p in M.G.parameters()], 0.999, 0]
    M.ema2 = [[p.detach().clone() for p in M.G.parameters()], 0.9999, 0]

    base = dict(curriculums.CelebA_ShadeGAN_view)
    md = curriculums.extract_metadata(base, 0)
    md.update(batch_size=a.batch, batch_split=1)
    S = md["img_size"]
    real = torch.rand(a.batch, 3, S, S) * 2 - 1
    last_up = curriculums.last_upsample_step(base, 0)
    mt.iteration(R, M, md, 0, last_up, real)  # warm-up
    t0, c0 = time.perf_counter(), cpu_seconds()
    for _ in range(a.iters):
        mt.iteration(R, M, md, 0, last_up, real)
    print(f"{(time.perf_counter() - t0) / a.iters:.4f} {(cpu_seconds() - c0) / a.iters:.3f}")


if __name__ == "__main__":
    main()
