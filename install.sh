#!/usr/bin/env bash
# ShadeGAN-HPC's one install script, for Debian 12.
#
#   bash install.sh          install the Debian packages the project needs (idempotent)
#   bash install.sh build    ... then configure and build build/shadegan
#   bash install.sh demo     ... then run the demo pipeline (jobs/demo.toml) on 2 MPI ranks
#   bash install.sh test     ... then run the whole test suite (ctest)
#
# Installing needs root; when every package is already there nothing needs root and a second
# run changes nothing (it only asks dpkg, in well under a second).
set -euo pipefail
cd "$(dirname "$0")"

# Exactly what the project uses, and why.
PACKAGES=(
  g++ cmake ninja-build pkg-config ccache        # toolchain (ccache: fast rebuilds, optional)
  libtorch-dev libopenblas0-pthread              # LibTorch; OpenBLAS makes it ~8x faster than netlib
  libblas3                                       # netlib BLAS, for the bit-for-bit parity test only (OpenBLAS stays the default)
  libopenmpi-dev openmpi-bin                     # MPI transport
  libhdf5-openmpi-dev hdf5-tools                 # parallel HDF5 shards; h5dump
  libtomlplusplus-dev libfmt-dev libcli11-dev doctest-dev nlohmann-json3-dev
  libxxhash-dev                                  # XXH3 fingerprints and output hashes
  libturbojpeg0-dev libpng-dev libgif-dev        # image codecs (JPEG, PNG, animated GIF)
  python3-torch python3-h5py python3-numpy       # interop tests: our files in Python's torch/h5py
  libopenvdb-dev libboost-dev                    # iso-surfaces (OpenVDB volumeToMesh; its headers need Boost's)
  slurm-wlm munge                                # the Slurm tests start a real single-node cluster
)

# One dpkg-query for all of them (the cheap check); a package counts when its status is
# "install ok installed".
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null |
            awk '$2=="install" && $3=="ok" && $4=="installed" {print $1}' || true)
missing=()
for p in "${PACKAGES[@]}"; do
  grep -qx -- "$p" <<<"$installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: these Debian packages are missing: ${missing[*]}" >&2
    echo "install.sh: installing them needs root; run:" >&2
    echo "    sudo bash $0 ${1:-}" >&2
    exit 1
  fi
  echo "install.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Installing libopenblas0-pthread makes it the libblas.so.3 alternative; say so if someone has
# pinned the slow reference BLAS by hand.
if command -v update-alternatives >/dev/null; then
  blas=$(update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null | awk '/^Value:/{print $2}')
  case "$blas" in
    *openblas*|"") ;;
    *) echo "install.sh: warning: libblas.so.3 is $blas, not OpenBLAS; LibTorch runs ~8x slower." >&2
       echo "install.sh:          fix: update-alternatives --auto libblas.so.3-x86_64-linux-gnu" >&2 ;;
  esac
fi

# mpirun refuses to start as root unless told it may (CI and these machines run as root).
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

build() {
  local jobs
  # ccache keys on absolute paths unless told the tree's base: with it, a fresh clone in another
  # folder (as CI makes) reuses the cache of an earlier build of the same sources.
  # The LibTorch libraries compile through a precompiled header, which ccache caches only with
  # these sloppiness settings (ccache manual, "Precompiled headers").
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
  export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
  jobs=$(nproc)
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j "$jobs"
}

case "${1:-}" in
  "") ;;
  build) build ;;
  demo)
    build
    exec build/shadegan run jobs/demo.toml
    ;;
  test)
    build
    # Tests run two at a time on 2 cores; the MPI tests start 2 ranks each.
    exec ctest --test-dir build --output-on-failure -j 2 --timeout 900
    ;;
  *) echo "usage: bash install.sh [build|demo|test]" >&2; exit 2 ;;
esac
