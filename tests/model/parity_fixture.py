#!/usr/bin/python3
"""Convert a parity fixture's HDF5 file (inputs, captured draws, reference outputs) into a
torch.save'd plain dict {"group/name": tensor}, which the C++ parity test reads with
sg::weights::read_state_dict. Written to a temporary name and renamed into place.

usage: parity_fixture.py <fixture.h5> <out.pt>
"""
import os
import sys

import h5py
import torch


def main():
    src, dst = sys.argv[1], sys.argv[2]
    tensors = {}
    with h5py.File(src, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                tensors[name] = torch.from_numpy(obj[()]).contiguous()
        f.visititems(visit)
    tmp = f"{dst}.tmp{os.getpid()}"
    torch.save(tensors, tmp)
    os.replace(tmp, dst)


if __name__ == "__main__":
    main()
