"""Reads a binary PLY (and an MRC grid) with numpy only, as a third-party reader would:
prints the counts, whether normals are there, and the enclosed volume."""
import sys

import numpy as np


def read_ply(path):
    data = open(path, "rb").read()
    end = data.index(b"end_header\n") + len(b"end_header\n")
    header = data[:end].decode().splitlines()
    assert header[0] == "ply" and header[1] == "format binary_little_endian 1.0", header[:2]
    nv = nf = 0
    props = []
    for line in header:
        w = line.split()
        if w[:2] == ["element", "vertex"]:
            nv = int(w[2])
        elif w[:2] == ["element", "face"]:
            nf = int(w[2])
        elif w[0] == "property" and w[1] == "float":
            props.append(w[2])
    vdt = np.dtype([(p, "<f4") for p in props])
    verts = np.frombuffer(data, vdt, nv, end)
    fdt = np.dtype([("n", "u1"), ("v", "<u4", (3,))])
    faces = np.frombuffer(data, fdt, nf, end + nv * vdt.itemsize)
    assert (faces["n"] == 3).all()
    assert end + nv * vdt.itemsize + nf * fdt.itemsize == len(data)
    return verts, faces["v"], "nx" in props


verts, faces, normals = read_ply(sys.argv[1])
p = np.stack([verts["x"], verts["y"], verts["z"]], 1).astype(np.float64)
vol = np.einsum("ij,ij->i", p[faces[:, 0]], np.cross(p[faces[:, 1]], p[faces[:, 2]])).sum() / 6
print(f"vertices {len(verts)} faces {len(faces)} normals {int(normals)} volume {vol:.6f}")

if len(sys.argv) > 2:
    raw = open(sys.argv[2], "rb").read()
    nx, ny, nz, mode = np.frombuffer(raw, "<i4", 4)
    assert mode == 2 and raw[208:212] == b"MAP "
    grid = np.frombuffer(raw, "<f4", nx * ny * nz, 1024).reshape(nz, ny, nx)
    print(f"mrc {nz} {ny} {nx} value[1,2,3] {grid[1, 2, 3]:g}")
