#!/usr/bin/env bash
# Download, here (where PyPI is reachable), the wheels that
# benchmarks/gpu/maskcut_gpu.sh needs on a stock-PyTorch GPU box without
# network: pycocotools (the RLE masks of vcl_mm.maskcut) for CPython 3.12,
# x86_64. They land in .whl/ (git-ignored); carry that folder to the GPU
# machine and maskcut_gpu.sh installs them offline into a temporary target.
# pydensecrf has no binary wheel on PyPI: without it the GPU script skips the
# pydensecrf timing and says so.
#   bash benchmarks/gpu/fetch_wheels.sh [PYTHON_VERSION]   # default 3.12
set -euo pipefail
cd "$(dirname "$0")/../.."
PYVER="${1:-3.12}"
mkdir -p .whl
python3 -m pip download --no-deps --only-binary=:all: \
    --python-version "$PYVER" --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d .whl pycocotools
ls -l .whl
