#!/usr/bin/env bash
# Download, here (where PyPI is reachable), the wheels that the GPU scripts
# need on a stock-PyTorch GPU box without network (Python 3.12, torch, timm,
# scipy, numba, opencv, numpy 2; no OpenMMLab packages), for CPython
# PYTHON_VERSION on x86_64. They land in .whl/ (git-ignored, about 40 MB);
# carry that folder to the GPU machine, where the scripts install them
# offline into a temporary target:
#   * maskcut_gpu.sh: pycocotools (the RLE masks of vcl_mm.maskcut).
#     pydensecrf has no binary wheel on PyPI: without it that script skips
#     the pydensecrf timing and says so.
#   * train_gpu.sh: mmengine, mmdet, mmcv-lite (no compiled ops: PyPI has
#     no mmcv 2.1.0 wheel with ops for CPython 3.12 or torch 2.11, and mmdet
#     3.3 asserts mmcv < 2.2), numpy 1.26.4 (mmdet 3.3 needs numpy < 2; hence
#     contourpy < 1.4, which needs numpy 2) and
#     the dependencies such an image lacks. Dependencies are listed here, not
#     resolved (resolving would pull opencv and scipy, which the image has).
#   bash benchmarks/gpu/fetch_wheels.sh [PYTHON_VERSION]   # default 3.12
set -euo pipefail
cd "$(dirname "$0")/../.."
PYVER="${1:-3.12}"
DEST="${VCL_MM_WHEELS:-.whl}"
mkdir -p "$DEST"
python3 -m pip download --no-deps --only-binary=:all: \
    --python-version "$PYVER" --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d "$DEST" \
    pycocotools \
    mmengine==0.10.7 mmdet==3.3.0 mmcv-lite==2.1.0 numpy==1.26.4 \
    addict termcolor yapf platformdirs rich markdown-it-py mdurl pygments \
    'matplotlib<3.11' 'contourpy<1.4' cycler fonttools kiwisolver pyparsing \
    'python-dateutil<3' six shapely terminaltables
ls -l "$DEST"
