#!/usr/bin/env bash
# MaskCut on one NVIDIA GPU with a stock PyTorch plus the maskcut profile
# (torch, torchvision, timm, scipy, numpy, pillow, mmengine, pycocotools;
# pydensecrf optional): whole-pipeline
# images/s at float32 and bf16, NCut device time per image, torch CRF vs
# pydensecrf per mask, peak GPU memory, for batch sizes 1/8/32.
# Installs nothing from the network (pycocotools, mmengine and its pure-Python
# dependencies from .whl/, see fetch_wheels.sh, where the image lacks them);
# about 2-4 minutes. Results: stdout and $OUT/maskcut_gpu.json.
#   bash benchmarks/gpu/maskcut_gpu.sh            # from the repository root
#   bash benchmarks/gpu/maskcut_gpu.sh --device cpu --tiny   # quick check
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PYTHON="${PYTHON:-python}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
WHEELS="${VCL_MM_WHEELS:-.whl}"
# neither is part of a stock PyTorch image: wheels fetched beforehand with
# benchmarks/gpu/fetch_wheels.sh are installed offline into a temporary
# folder, never from the network (no mmcv or mmdet: the cut stage needs none)
NEED=()
"$PYTHON" -c 'import pycocotools' 2>/dev/null || NEED+=(pycocotools)
"$PYTHON" -c 'import mmengine' 2>/dev/null || NEED+=(mmengine addict \
    termcolor yapf platformdirs rich markdown_it_py mdurl pygments)
if [ ${#NEED[@]} -gt 0 ]; then
    FILES=()
    for name in "${NEED[@]}"; do
        found=("$WHEELS"/"$name"-*.whl)
        if [ ! -e "${found[0]}" ]; then
            echo "error: $name is not installed and $WHEELS/ has no wheel of" \
                 "it; run 'bash benchmarks/gpu/fetch_wheels.sh' where PyPI" \
                 "is reachable and bring $WHEELS/ along" >&2
            exit 2
        fi
        FILES+=("${found[0]}")
    done
    SITE="$(mktemp -d)"
    trap 'rm -rf "$SITE"' EXIT
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile \
        --no-cache-dir --target "$SITE" "${FILES[@]}"
    export PYTHONPATH="$PYTHONPATH:$SITE"
fi
timeout 290 "$PYTHON" benchmarks/gpu/maskcut_gpu.py "$@"
