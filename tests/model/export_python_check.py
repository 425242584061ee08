"""Checks a generator state dict exported by our C++ (export_python_test.cpp) with Debian's
python3-torch: torch.load reads it, its keys (in order) and shapes are spec section 11's
CelebA_ShadeGAN_view list, its values are the C++ side's (per-tensor float64 checksums and
exact first/last elements), and a module with the reference's layout accepts it with
load_state_dict(strict=True). Usage: export_python_check.py generator.pt checksums.txt
Exit 0 when everything holds; otherwise prints every mismatch and exits 1."""
import sys

import torch
from torch import nn


def spec_celeba_view():
    """Spec section 11's table for CelebA_ShadeGAN_view, row by row, in parameter order."""
    k = []
    for i in range(8):
        k += [(f"siren.network.{i}.layer.weight", (256, 3 if i == 0 else 256)),
              (f"siren.network.{i}.layer.bias", (256,))]
    k += [("siren.final_layer.weight", (1, 256)), ("siren.final_layer.bias", (1,)),
          ("siren.color_layer_sine.layer.weight", (256, 263)),
          ("siren.color_layer_sine.layer.bias", (256,)),
          ("siren.color_layer_linear.0.weight", (3, 256)),
          ("siren.color_layer_linear.0.bias", (3,))]
    for i in (0, 2, 4):
        k += [(f"siren.mapping_network.network.{i}.weight", (256, 256)),
              (f"siren.mapping_network.network.{i}.bias", (256,))]
    k += [("siren.mapping_network.network.6.weight", (4608, 256)),
          ("siren.mapping_network.network.6.bias", (4608,))]
    k += [("surfacenet.linear.weight", (256, 4608)), ("surfacenet.linear.bias", (256,)),
          ("surfacenet.network.0.weight", (256, 258, 1, 1)),
          ("surfacenet.network.2.weight", (256, 256, 4, 4)),
          ("surfacenet.network.4.weight", (256, 256, 3, 3)),
          ("surfacenet.network.6.weight", (256, 256, 4, 4)),
          ("surfacenet.network.7.weight", (256,)), ("surfacenet.network.7.bias", (256,)),
          ("surfacenet.network.9.weight", (256, 256, 3, 3))]
    c = 256
    for i in range(10, 14):
        p = f"surfacenet.network.{i}."
        k += [(p + "gn1.weight", (c,)), (p + "gn1.bias", (c,)),
              (p + "conv1.weight", (c // 2, c, 3, 3)),
              (p + "gn2.weight", (c // 2,)), (p + "gn2.bias", (c // 2,)),
              (p + "conv2.weight", (c // 2, c // 2, 3, 3)),
              (p + "conv_sc.weight", (c // 2, c, 1, 1)), (p + "conv_sc.bias", (c // 2,))]
        c //= 2
    k += [("surfacenet.network.14.weight", (16,)), ("surfacenet.network.14.bias", (16,)),
          ("surfacenet.network.16.weight", (2, 16, 5, 5))]
    return k


# The reference's module layout (siren.py SPATIALSIRENBASELINE + CustomMappingNetwork,
# ResDecoder in the surface net), reduced to what owns parameters; activations keep the indices.
class FiLMLayer(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.layer = nn.Linear(i, o)


class Mapping(nn.Module):
    def __init__(self):
        super().__init__()
        self.network = nn.Sequential(nn.Linear(256, 256), nn.LeakyReLU(0.2),
                                     nn.Linear(256, 256), nn.LeakyReLU(0.2),
                                     nn.Linear(256, 256), nn.LeakyReLU(0.2),
                                     nn.Linear(256, 4608))


class Siren(nn.Module):
    def __init__(self):
        super().__init__()
        self.network = nn.ModuleList([FiLMLayer(3, 256)] + [FiLMLayer(256, 256) for _ in range(7)])
        self.final_layer = nn.Linear(256, 1)
        self.color_layer_sine = FiLMLayer(263, 256)
        self.color_layer_linear = nn.Sequential(nn.Linear(256, 3))
        self.mapping_network = Mapping()


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gn1 = nn.GroupNorm(16, c)
        self.conv1 = nn.Conv2d(c, c // 2, 3, 1, 1, bias=False)
        self.gn2 = nn.GroupNorm(16, c // 2)
        self.conv2 = nn.Conv2d(c // 2, c // 2, 3, 1, 1, bias=False)
        self.conv_sc = nn.Conv2d(c, c // 2, 1)


class ResDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4608, 256)
        self.network = nn.Sequential(
            nn.Conv2d(258, 256, 1, bias=False), nn.ReLU(),                # 0, 1
            nn.ConvTranspose2d(256, 256, 4, bias=False), nn.ReLU(),       # 2, 3
            nn.Conv2d(256, 256, 3, 1, 1, bias=False), nn.ReLU(),          # 4, 5
            nn.ConvTranspose2d(256, 256, 4, 2, 1, bias=False),            # 6
            nn.GroupNorm(64, 256), nn.ReLU(),                             # 7, 8
            nn.Conv2d(256, 256, 3, 1, 1, bias=False),                     # 9
            ResBlock(256), ResBlock(128), ResBlock(64), ResBlock(32),     # 10-13
            nn.GroupNorm(4, 16), nn.ReLU(),                               # 14, 15
            nn.Conv2d(16, 2, 5, 1, 2, bias=False))                        # 16


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.siren = Siren()
        self.surfacenet = ResDecoder()


def main():
    path, sums_path = sys.argv[1], sys.argv[2]
    errors = []
    sd = torch.load(path, map_location="cpu")
    spec = spec_celeba_view()
    if sum(torch.Size(s).numel() for _, s in spec) != 7068628:
        errors.append("spec list does not total 7 068 628 parameters")
    got = [(k, tuple(v.shape)) for k, v in sd.items()]
    if [k for k, _ in got] != [k for k, _ in spec]:
        errors.append("keys differ from spec 11 (order included):\n  ours: %s\n  spec: %s"
                      % ([k for k, _ in got], [k for k, _ in spec]))
    for (k, s), (ks, ss) in zip(got, spec):
        if k == ks and s != ss:
            errors.append(f"{k}: shape {s}, spec {ss}")

    checked = 0
    with open(sums_path) as f:
        for line in f:
            name, total, sq, first, last = line.split()
            t = sd.get(name)
            if t is None:
                errors.append(f"{name}: in the C++ checksums but not in the file")
                continue
            t64 = t.double()
            tol = 1e-12 * max(1.0, float(t64.abs().sum()))
            if abs(float(t64.sum()) - float(total)) > tol:
                errors.append(f"{name}: sum {float(t64.sum())!r}, C++ {total}")
            if abs(float((t64 * t64).sum()) - float(sq)) > 1e-12 * max(1.0, float(sq)):
                errors.append(f"{name}: sum of squares {float((t64 * t64).sum())!r}, C++ {sq}")
            flat = t.reshape(-1)
            if float(flat[0]) != float(first) or float(flat[-1]) != float(last):
                errors.append(f"{name}: first/last {float(flat[0])!r}/{float(flat[-1])!r}, "
                              f"C++ {first}/{last}")
            checked += 1
    if checked != len(spec):
        errors.append(f"{checked} checksums compared, expected {len(spec)}")

    g = Generator()
    layout = [(k, tuple(v.shape)) for k, v in g.state_dict().items()]
    if layout != [(k, tuple(s)) for k, s in spec]:
        errors.append("the Python module's own layout differs from spec 11: %s" % layout)
    try:
        g.load_state_dict(sd, strict=True)
        for k, v in g.state_dict().items():
            if not torch.equal(v, sd[k]):
                errors.append(f"{k}: loaded value differs from the file")
    except RuntimeError as e:
        errors.append(f"load_state_dict(strict=True) refused the file: {e}")

    for e in errors:
        print(e)
    print(f"{len(sd)} tensors, {sum(v.numel() for v in sd.values())} parameters, "
          f"{checked} checksums compared, {len(errors)} errors")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
