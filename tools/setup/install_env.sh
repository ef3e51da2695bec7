#!/usr/bin/env bash
# Create (or update) the project environment in .venv/ with the pinned CPU stack.
#
# mmcv 2.1.0 has no wheel for torch 2.14 on PyPI, so we build it from its sdist with
# the compiled CPU ops, once per machine: the wheel is cached outside the repository in
# ${VCL_MM_WHEEL_CACHE:-$HOME/.cache/vcl_mm/wheels}, keyed by mmcv, torch and Python
# versions, and later installs reuse it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${VCL_MM_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
CACHE="${VCL_MM_WHEEL_CACHE:-$HOME/.cache/vcl_mm/wheels}"
MMCV_VERSION=2.1.0
TORCH_VERSION=2.14.1
PINS="$ROOT/requirements/cpu-pins.txt"

step() { printf '\n==> %s\n' "$*"; }
start=$(date +%s)

# Skip everything when nothing that defines the environment has changed.
stamp_file="$VENV/.vcl_mm-env-stamp"
stamp=$(cat "$ROOT/setup.cfg" "$PINS" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)
if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp_file" 2>/dev/null)" = "$stamp" ]; then
  echo "environment in $VENV is up to date (delete $stamp_file to reinstall)"
  exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
  step "creating $VENV with $($PY --version)"
  "$PY" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip)
export PIP_DISABLE_PIP_VERSION_CHECK=1
# pip, quiet, minus the noise of missing local index folders some hosts list.
pip_q() {
  local rc
  set +e
  "${PIP[@]}" "$@" 2>&1 | grep -v '^WARNING: Location .* is ignored'
  rc=${PIPESTATUS[0]}
  set -e
  return "$rc"
}
pip_q install -q --upgrade pip 'setuptools<81' wheel ninja cython

step "torch $TORCH_VERSION, torchvision, numpy<2, mmengine"
pip_q install -q -c "$PINS" torch torchvision numpy mmengine

pyver=$("$VENV/bin/python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
key="mmcv-${MMCV_VERSION}_torch-${TORCH_VERSION}_${pyver}"
wheel_dir="$CACHE/$key"
if ! ls "$wheel_dir"/mmcv-*.whl >/dev/null 2>&1; then
  step "building mmcv $MMCV_VERSION with CPU ops (once per machine, ~20 min on 2 cores)"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  pip_q download -q --no-deps --no-binary :all: --no-build-isolation \
    -d "$work" "mmcv==$MMCV_VERSION"
  tar -xzf "$work"/mmcv-*.tar.gz -C "$work"
  src=$(ls -d "$work"/mmcv-$MMCV_VERSION)
  # torch >= 2.14 headers refuse anything older than C++20.
  sed -i -e 's/-std=c++14/-std=c++20/g' -e 's/-std=c++17/-std=c++20/g' "$src/setup.py"
  mkdir -p "$wheel_dir.partial"
  # -v streams the compiler lines: the build's progress.
  MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
    "${PIP[@]}" wheel -v --no-deps --no-build-isolation -w "$wheel_dir.partial" "$src" \
    2>&1 | tee "$CACHE/$key.build.log" | sed -un -E -e 's#^ *(\[[0-9]+/[0-9]+\]).* -c ([^ ]+).*#  \1 compiling \2#p' \
                       -e '/Successfully built|error:/p' || true
  ls "$wheel_dir.partial"/mmcv-*.whl >/dev/null 2>&1 || {
    tail -n 40 "$CACHE/$key.build.log" >&2
    echo "mmcv build failed; full log: $CACHE/$key.build.log" >&2
    exit 1
  }
  rm -rf "$wheel_dir" && mv "$wheel_dir.partial" "$wheel_dir"
else
  step "mmcv $MMCV_VERSION: reusing cached wheel in $wheel_dir"
fi
pip_q install -q -c "$PINS" "$wheel_dir"/mmcv-*.whl

step "mmdet, timm, pydensecrf2, pycocotools and vcl_mm (editable)"
pip_q install -q -c "$PINS" --no-build-isolation pydensecrf2
pip_q install -q -c "$PINS" -e "$ROOT[tests]"
# What the wheel installs beside the package and an editable install drops:
# the hook that lets mmengine resolve vcl_mm:: configs (setup.py).
"$VENV/bin/python" -c "from vcl_mm.mmengine_config_scope import write_pth; write_pth()"

"$VENV/bin/python" - <<'PY'
import mmcv, mmdet, mmengine, torch
from mmcv.ops import MultiScaleDeformableAttention  # noqa: F401  (compiled ops present)
print(f'environment ready: torch {torch.__version__}, mmcv {mmcv.__version__}, '
      f'mmdet {mmdet.__version__}, mmengine {mmengine.__version__}')
PY
echo "$stamp" > "$stamp_file"
echo "install took $(( $(date +%s) - start )) s"
