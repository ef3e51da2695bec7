#!/usr/bin/env bash
# MaskCut on one NVIDIA GPU with a stock PyTorch (torch, torchvision, timm,
# scipy, numpy, pillow, pycocotools; pydensecrf optional): whole-pipeline
# images/s at float32 and bf16, NCut device time per image, torch CRF vs
# pydensecrf per mask, peak GPU memory, for batch sizes 1/8/32.
# Installs nothing from the network (pycocotools from .whl/, see fetch_wheels.sh,
# where the image lacks it); about 2-4 minutes. Results: stdout and $OUT/maskcut_gpu.json.
#   bash benchmarks/gpu/maskcut_gpu.sh            # from the repository root
#   bash benchmarks/gpu/maskcut_gpu.sh --device cpu --tiny   # quick check
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PYTHON="${PYTHON:-python}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
# pycocotools is not part of a stock PyTorch image: wheels fetched beforehand
# with benchmarks/gpu/fetch_wheels.sh (into .whl/) are installed offline into
# a temporary folder, never from the network.
if ! "$PYTHON" -c 'import pycocotools' 2>/dev/null; then
    if ls .whl/pycocotools-*.whl >/dev/null 2>&1; then
        SITE="$(mktemp -d)"
        "$PYTHON" -m pip install -q --no-index --no-deps --no-compile \
            --no-cache-dir --target "$SITE" .whl/pycocotools-*.whl
        export PYTHONPATH="$PYTHONPATH:$SITE"
    else
        echo "error: pycocotools is not installed and .whl/ has no wheel of it;" \
             "run 'bash benchmarks/gpu/fetch_wheels.sh' where PyPI is reachable" \
             "and bring .whl/ along" >&2
        exit 2
    fi
fi
exec timeout 290 "$PYTHON" benchmarks/gpu/maskcut_gpu.py "$@"
