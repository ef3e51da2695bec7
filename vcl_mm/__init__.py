"""vcl_mm: VideoCutLER for MMEngine / MMDetection 3.x.

Importing the package registers every vcl_mm component into mmdet's registries, so
configs only need ``custom_imports=dict(imports=['vcl_mm'])`` and
``default_scope='mmdet'``.

Tools that only need the numpy-level code (the offline evaluators in
``tools/analysis/``) set ``VCL_MM_LIGHT_IMPORT=1`` before importing: the
torch/mmdet components are then not imported (or registered), which keeps
such a process at about a tenth of the memory.
"""
import os

from .version import __version__  # noqa: F401

LIGHT_IMPORT = os.environ.get('VCL_MM_LIGHT_IMPORT') == '1'

if not LIGHT_IMPORT:
    from . import datasets, engine, evaluation, models  # noqa: F401,E402
    from .utils import register_checkpoint_loader  # noqa: E402

    # mmengine 0.10.7 cannot resume under torch >= 2.6 without this (see
    # vcl_mm/utils/checkpoint.py); it keeps weights_only loading.
    register_checkpoint_loader()
