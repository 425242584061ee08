"""Reference for tests/metrics/fid_inception_test.cpp, run with Debian's /usr/bin/python3
(torch 1.13; no torchvision, nothing downloaded).

Writes to OUT_DIR:
  weights.pth    (and weights_legacy.pth, the same in torch.save's pre-1.6 format) a state dict of the FID Inception network with seeded, well-scaled random
                 values, saved as torch.save(model.state_dict()) like the real
                 pt_inception-2015-12-05-6726825d.pth (torchvision names, with BatchNorm's
                 num_batches_tracked counters);
  reference.pth  a plain dict: the test images (uint8), the pre-processed inputs and the
                 network's pool features and logits_unbiased for both input modes.

The network is written here from the spec (§10.5) in plain torch, independently of the C++.
"""
import sys
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)


class BasicConv2d(nn.Module):
    def __init__(self, cin, cout, **kw):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, bias=False, **kw)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


def avg_tf(x):
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class A(nn.Module):
    def __init__(self, cin, pool):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(cin, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(cin, pool, kernel_size=1)

    def forward(self, x):
        return torch.cat([self.branch1x1(x), self.branch5x5_2(self.branch5x5_1(x)),
                          self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                          self.branch_pool(avg_tf(x))], 1)


class B(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x):
        return torch.cat([self.branch3x3(x),
                          self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                          F.max_pool2d(x, 3, stride=2)], 1)


class C(nn.Module):
    def __init__(self, cin, c7):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x):
        s = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = self.branch7x7dbl_1(x)
        for m in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4,
                  self.branch7x7dbl_5):
            d = m(d)
        return torch.cat([self.branch1x1(x), s, d, self.branch_pool(avg_tf(x))], 1)


class D(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x):
        b = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([self.branch3x3_2(self.branch3x3_1(x)), b,
                          F.max_pool2d(x, 3, stride=2)], 1)


class E(nn.Module):
    def __init__(self, cin, max_pool):
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = BasicConv2d(cin, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(cin, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x):
        t = self.branch3x3_1(x)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        p = F.max_pool2d(x, 3, stride=1, padding=1) if self.max_pool else avg_tf(x)
        return torch.cat([self.branch1x1(x),
                          torch.cat([self.branch3x3_2a(t), self.branch3x3_2b(t)], 1),
                          torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1),
                          self.branch_pool(p)], 1)


class FIDInception(nn.Module):
    def __init__(self):
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.Mixed_5b = A(192, 32)
        self.Mixed_5c = A(256, 64)
        self.Mixed_5d = A(288, 64)
        self.Mixed_6a = B(288)
        self.Mixed_6b = C(768, 128)
        self.Mixed_6c = C(768, 160)
        self.Mixed_6d = C(768, 160)
        self.Mixed_6e = C(768, 192)
        self.Mixed_7a = D(768)
        self.Mixed_7b = E(1280, False)
        self.Mixed_7c = E(2048, True)
        self.fc = nn.Linear(2048, 1008)

    def forward(self, x):
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, 3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, 3, stride=2)
        for name in ("Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c",
                     "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c"):
            x = getattr(self, name)(x)
        pool = torch.flatten(F.adaptive_avg_pool2d(x, (1, 1)), 1)
        return pool, pool.mm(self.fc.weight.T)


def resize_tf1(x, size):
    """torch-fidelity 0.2.0 interpolate_bilinear_2d_like_tensorflow1x, method 'slow'."""
    out_h, out_w = size
    scale_x = x.shape[3] / out_w
    scale_y = x.shape[2] / out_h
    gx = torch.arange(0, out_w, 1, dtype=x.dtype) * torch.tensor(scale_x, dtype=torch.float32)
    gx_lo = gx.long()
    gx_hi = (gx_lo + 1).clamp_max(x.shape[3] - 1)
    dx = gx - gx_lo.float()
    gy = torch.arange(0, out_h, 1, dtype=x.dtype) * torch.tensor(scale_y, dtype=torch.float32)
    gy_lo = gy.long()
    gy_hi = (gy_lo + 1).clamp_max(x.shape[2] - 1)
    dy = gy - gy_lo.float()
    in_00 = x[:, :, gy_lo, :][:, :, :, gx_lo]
    in_01 = x[:, :, gy_lo, :][:, :, :, gx_hi]
    in_10 = x[:, :, gy_hi, :][:, :, :, gx_lo]
    in_11 = x[:, :, gy_hi, :][:, :, :, gx_hi]
    in_0 = in_00 + (in_01 - in_00) * dx.view(1, 1, 1, out_w)
    in_1 = in_10 + (in_11 - in_10) * dx.view(1, 1, 1, out_w)
    return in_0 + (in_1 - in_0) * dy.view(1, 1, out_h, 1)


def main(out_dir):
    gen = torch.Generator().manual_seed(20151205)
    net = FIDInception().eval()
    with torch.no_grad():
        for name, m in net.named_modules():
            if isinstance(m, nn.Conv2d):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
            elif isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(0.8 + 0.4 * torch.rand(c, generator=gen))
                m.bias.copy_(0.2 * torch.rand(c, generator=gen) - 0.1)
                m.running_mean.copy_(0.2 * torch.rand(c, generator=gen) - 0.1)
                m.running_var.copy_(0.5 + torch.rand(c, generator=gen))
                m.num_batches_tracked.fill_(1000)
        net.fc.weight.copy_(torch.randn(net.fc.weight.shape, generator=gen) / 2048 ** 0.5)
        net.fc.bias.copy_(torch.randn(net.fc.bias.shape, generator=gen))
    torch.save(net.state_dict(), out_dir + "/weights.pth")
    # The real pt_inception-2015-12-05-6726825d.pth predates torch 1.6: the legacy format.
    torch.save(net.state_dict(), out_dir + "/weights_legacy.pth", _use_new_zipfile_serialization=False)

    # Two odd-sized images: a smooth pattern with structure, and noise.
    yy, xx = torch.meshgrid(torch.arange(37.0), torch.arange(53.0), indexing="ij")
    smooth = torch.stack([128 + 120 * torch.sin(xx / 5), 128 + 120 * torch.cos(yy / 4),
                          (xx * 4 + yy * 3) % 256])
    noise = torch.randint(0, 256, (3, 37, 53), generator=gen).float()
    images = torch.stack([smooth, noise]).round().clamp(0, 255).to(torch.uint8)

    out = {"images": images}
    with torch.no_grad():
        # torch-fidelity: float 0..255, TF1 resize, (x - 128) / 128.
        x_tf = (resize_tf1(images.float(), (299, 299)) - 128) / 128
        # pytorch-fid: ToTensor (x / 255), PyTorch bilinear, 2x - 1.
        x_pt = 2 * F.interpolate(images.float().div(255), size=(299, 299), mode="bilinear",
                                 align_corners=False) - 1
        for tag, x in (("tf", x_tf), ("pt", x_pt)):
            pool, logits = net(x)
            out["input_" + tag] = x.contiguous()
            out["pool_" + tag] = pool.contiguous()
            out["logits_" + tag] = logits.contiguous()
    torch.save(out, out_dir + "/reference.pth")


if __name__ == "__main__":
    main(sys.argv[1])
