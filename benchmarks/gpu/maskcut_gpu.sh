#!/usr/bin/env bash
# MaskCut on one NVIDIA GPU with a stock PyTorch (torch, torchvision, timm,
# scipy, numpy, pillow, pycocotools; pydensecrf optional): whole-pipeline
# images/s at float32 and bf16, NCut device time per image, torch CRF vs
# pydensecrf per mask, peak GPU memory, for batch sizes 1/8/32.
# Installs nothing; about 2-4 minutes. Results: stdout and $OUT/maskcut_gpu.json.
#   bash benchmarks/gpu/maskcut_gpu.sh            # from the repository root
#   bash benchmarks/gpu/maskcut_gpu.sh --device cpu --tiny   # quick check
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PYTHON="${PYTHON:-python}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
exec timeout 290 "$PYTHON" benchmarks/gpu/maskcut_gpu.py "$@"
