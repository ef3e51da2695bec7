#!/usr/bin/env bash
# Training check of the real recipes on one NVIDIA GPU with random weights:
# video stage (2- and 3-frame clips) and image stage (LSJ), under AMP and at
# float32: seconds/iteration, peak GPU memory, fraction of iterations with a
# non-finite loss or matching cost. Under 5 minutes. Results: stdout and
# $OUT/train_gpu.json.
#   bash benchmarks/gpu/train_gpu.sh                         # repository root
#   bash benchmarks/gpu/train_gpu.sh --device cpu --tiny     # quick check
#
# Installs nothing from the network. Where the Python lacks mmengine / mmcv /
# mmdet (a stock PyTorch image), the wheels that benchmarks/gpu/fetch_wheels.sh
# put in .whl/ beforehand are installed offline, without dependency
# resolution, into a temporary folder put first on PYTHONPATH:
#   * mmcv-lite 2.1.0 (pure Python; PyPI has no mmcv 2.1.0 wheel with ops for
#     CPython 3.12 or a recent torch, and mmdet 3.3 refuses mmcv >= 2.2):
#     train_gpu.py gives it a stub mmcv._ext, so mmcv.ops imports, and the
#     multi-scale deformable attention runs mmcv's pure-PyTorch path on the
#     GPU (said beside every figure; slower than the CUDA kernel);
#   * numpy 1.26.4, shadowing the image's numpy 2 (mmdet 3.3 / pycocotools
#     of that era use numpy 1 APIs); torch, scipy and opencv wheels built
#     against numpy 2 run on numpy 1.26;
#   * mmengine 0.10.7, mmdet 3.3.0, pycocotools and the pure-Python or small
#     dependencies that a torch + timm + scipy + opencv image lacks.
# VCL_MM_WHEELS=DIR takes the wheels from DIR instead of .whl/;
# VCL_MM_FORCE_WHEELS=1 installs them even where mmdet imports (to check the
# offline set-up on a full environment, as tests/models/
# test_train_gpu_script.py does with VCL_MM_TEST_WHEELS=DIR).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PYTHON="${PYTHON:-python}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
WHEELS="${VCL_MM_WHEELS:-.whl}"
if [ "${VCL_MM_FORCE_WHEELS:-0}" = 1 ] || \
        ! "$PYTHON" -c 'import mmengine, mmcv, mmdet, pycocotools' 2>/dev/null; then
    if ! ls "$WHEELS"/mmcv_lite-*.whl "$WHEELS"/mmdet-*.whl >/dev/null 2>&1; then
        echo "error: mmengine / mmcv / mmdet are not installed and $WHEELS/ has" \
             "no wheels of them; run 'bash benchmarks/gpu/fetch_wheels.sh'" \
             "where PyPI is reachable and bring $WHEELS/ along" >&2
        exit 2
    fi
    SITE="$(mktemp -d)"
    trap 'rm -rf "$SITE"' EXIT
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile \
        --no-cache-dir --target "$SITE" "$WHEELS"/*.whl
    export PYTHONPATH="$SITE:$PYTHONPATH"
fi
timeout 295 "$PYTHON" benchmarks/gpu/train_gpu.py "$@"
