"""vcl_mm: VideoCutLER for MMEngine / MMDetection 3.x.

Importing the package registers every vcl_mm component into mmdet's registries, so
configs only need ``custom_imports=dict(imports=['vcl_mm'])`` and
``default_scope='mmdet'``.
"""
from .version import __version__  # noqa: F401
from . import datasets, engine, evaluation, models  # noqa: F401,E402
from .utils import register_checkpoint_loader  # noqa: E402

# mmengine 0.10.7 cannot resume under torch >= 2.6 without this (see
# vcl_mm/utils/checkpoint.py); it keeps weights_only loading.
register_checkpoint_loader()
