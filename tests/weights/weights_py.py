"""Python side of the weights tests (run by tests/weights/*_test.cpp with /usr/bin/python3).

Each subcommand either writes a torch.save file the C++ reader must read, or checks a file the
C++ writer wrote, exiting non-zero with a message on any mismatch. Values are deterministic
functions of the key so both sides can compute them without sharing anything but this rule:
    value(key, shape, dtype) = ((arange(numel) * 7 + len(key) * 13) % 101 - 50) / 8,
reshaped and cast (bool: value > 0). Every value is exact in float16 and bfloat16.
"""
import collections
import sys
import types

import torch


def value(key, shape, dtype):
    n = 1
    for s in shape:
        n *= s
    v = ((torch.arange(n, dtype=torch.float64) * 7 + len(key) * 13) % 101 - 50) / 8
    v = v.reshape(shape)
    return v > 0 if dtype == torch.bool else v.to(dtype)


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def make_state_dict(out):
    """An OrderedDict covering dtypes, a Parameter, a 0-dim tensor, an empty tensor, a
    transposed (non-contiguous) view and two views sharing one storage at an offset."""
    sd = collections.OrderedDict()
    for key, shape, dtype in [
        ("net.0.weight", (4, 3), torch.float32),
        ("net.0.bias", (4,), torch.float32),
        ("double", (2, 5), torch.float64),
        ("long", (6,), torch.int64),
        ("int", (3, 2), torch.int32),
        ("half", (7,), torch.float16),
        ("bf16", (2, 2, 2), torch.bfloat16),
        ("flag", (5,), torch.bool),
        ("bytes", (4,), torch.uint8),
        ("scalar", (), torch.float32),
        ("empty", (0, 3), torch.float32),
    ]:
        sd[key] = value(key, shape, dtype)
    sd["param"] = torch.nn.Parameter(value("param", (3, 4), torch.float32))
    sd["transposed"] = value("transposed", (5, 3), torch.float32).t()  # shape (3, 5), stride (1, 3)
    base = value("shared", (20,), torch.float32)
    sd["shared_a"] = base[2:8].view(2, 3)   # offset 2
    sd["shared_b"] = base[10:20:2]          # offset 10, stride 2
    sd._metadata = collections.OrderedDict({"": {"version": 1}})
    torch.save(sd, out)


def install_torch_ema():
    """A class with torch_ema's GLOBAL name and attributes, defined on the fly."""
    mod = types.ModuleType("torch_ema")

    class ExponentialMovingAverage:
        def __init__(self, parameters, decay, use_num_updates=True):
            self.decay = decay
            self.num_updates = 0 if use_num_updates else None
            self.shadow_params = [p.clone().detach() for p in parameters if p.requires_grad]
            self.collected_params = []

    ExponentialMovingAverage.__module__ = "torch_ema"
    ExponentialMovingAverage.__qualname__ = "ExponentialMovingAverage"
    mod.ExponentialMovingAverage = ExponentialMovingAverage
    sys.modules["torch_ema"] = mod
    return ExponentialMovingAverage


def small_module():
    """The module tests/weights build in C++ too (same names and order)."""
    m = torch.nn.Module()
    m.lin = torch.nn.Linear(3, 4)
    m.block = torch.nn.Module()
    m.block.conv = torch.nn.Conv2d(4, 2, 3)
    m.block.register_buffer("running", torch.zeros(2))
    m.head = torch.nn.Linear(4, 1, bias=False)
    return m


def make_ema(out, num_updates):
    EMA = install_torch_ema()
    m = small_module()
    with torch.no_grad():
        for name, p in m.named_parameters():
            p.copy_(value(name, p.shape, p.dtype))
    ema = EMA(m.parameters(), 0.999, use_num_updates=(num_updates != "none"))
    if num_updates != "none":
        ema.num_updates = int(num_updates)
    ema.shadow_params = [s * 2 for s in ema.shadow_params]
    ema.collected_params = [s.clone() for s in ema.shadow_params[:2]]
    torch.save(ema, out)


def check_state_dict(path, scale):
    """Our file: torch.load gives the small module's keys in order; strict load; values equal."""
    sd = torch.load(path)
    m = small_module()
    want = list(m.state_dict().keys())
    if list(sd.keys()) != want:
        fail(f"keys {list(sd.keys())} != {want}")
    m.load_state_dict(sd, strict=True)
    for name, t in m.state_dict().items():
        expect = value(name, t.shape, t.dtype) * float(scale)
        if t.dtype != torch.float32 or not torch.equal(t, expect):
            fail(f"{name}: {t} != {expect}")
    print("ok", len(sd))


def check_ema(path):
    """Our EMA file: the documented two-line conversion restores a torch_ema object."""
    EMA = install_torch_ema()
    m = small_module()
    d = torch.load(path, map_location="cpu")
    ema = EMA(m.parameters(), d["decay"])
    ema.num_updates, ema.shadow_params, ema.collected_params = d["num_updates"], d["shadow_params"], d["collected_params"]
    if abs(ema.decay - 0.9999) > 0 or ema.num_updates != 1234:
        fail(f"decay {ema.decay} num_updates {ema.num_updates}")
    params = list(m.named_parameters())
    if len(ema.shadow_params) != len(params) or len(ema.collected_params) != 1:
        fail("wrong list lengths")
    for (name, p), s in zip(params, ema.shadow_params):
        if s.shape != p.shape or not torch.equal(s, value(name, p.shape, p.dtype) * 3):
            fail(f"shadow {name}: {s}")
    if not torch.equal(ema.collected_params[0], value("c", (2, 2), torch.float32)):
        fail("collected")
    print("ok", len(ema.shadow_params))


def sums(path, out):
    """Per key: dtype, shape, float64 sum and first element, for the fixture check."""
    sd = torch.load(path, map_location="cpu")
    with open(out, "w") as f:
        for k, t in sd.items():
            flat = t.detach().double().flatten()
            f.write(f"{k}\t{flat.sum().item()!r}\t{flat[0].item() if flat.numel() else 0.0!r}\n")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "make-state-dict":
        make_state_dict(args[0])
    elif cmd == "make-ema":
        make_ema(args[0], args[1])
    elif cmd == "make-legacy":
        torch.save({"w": torch.ones(2)}, args[0], _use_new_zipfile_serialization=False)
    elif cmd == "make-optimizer":
        p = torch.nn.Parameter(torch.ones(3))
        opt = torch.optim.Adam([p], lr=1e-3)
        p.grad = torch.ones(3)
        opt.step()
        torch.save(opt.state_dict(), args[0])
    elif cmd == "make-protocol4":
        sd = collections.OrderedDict(a=value("a", (2, 3), torch.float32), bb=value("bb", (4,), torch.int64))
        torch.save(sd, args[0], pickle_protocol=4)
    elif cmd == "make-cuda-tagged":
        # As the official checkpoints were saved from a GPU: storages located on 'cuda:0'.
        torch.serialization.location_tag = lambda storage: "cuda:0"
        torch.save(collections.OrderedDict(w=value("w", (3, 2), torch.float32)), args[0])
    elif cmd == "make-misc":
        import numpy as np
        torch.save({
            "np_f8": np.float64(2.5), "np_i8": np.int64(-7), "np_f4": np.float32(0.25),
            "float": 1.5e-3, "int": 123456789012, "neg": -2, "big_neg": -(2 ** 40), "true": True,
            "none": None, "bytes": b"\x00\xffab", "text": "h\u00e9llo",
            "list": [1, 2.0, "x"], "tuple": (3, (4, 5)), "set": {9},
            "nested": {"k": [torch.arange(3)]},
        }, args[0])
    elif cmd == "make-module":
        m = small_module()
        with torch.no_grad():
            for name, t in m.state_dict().items():
                t.copy_(value(name, t.shape, t.dtype))
        torch.save(m, args[0])
    elif cmd == "make-cyclic-module":
        # A module whose submodule lists the module itself among its children: Python pickles
        # the cycle through its memo; state_dict() on it would recurse forever.
        m = small_module()
        m.block._modules["loop"] = m
        torch.save(m, args[0])
    elif cmd == "make-diamond-module":
        # 40 modules, each holding the next twice ('l' and 'r'): 2**39 paths to the last one.
        mods = [torch.nn.Module() for _ in range(40)]
        for a, b in zip(mods, mods[1:]):
            a.add_module("l", b)
            a.add_module("r", b)
        mods[-1].register_buffer("x", torch.zeros(1))
        torch.save(mods[0], args[0])
    elif cmd == "make-expanded":
        # One float stored, viewed with stride 0 as 2**20 x 2**20 elements (4 TiB if copied).
        torch.save({"w": torch.zeros(1).expand(1 << 20, 1 << 20)}, args[0])
    elif cmd == "check-state-dict":
        check_state_dict(args[0], args[1])
    elif cmd == "check-ema":
        check_ema(args[0])
    elif cmd == "sums":
        sums(args[0], args[1])
    else:
        fail(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
