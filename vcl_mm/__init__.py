"""vcl_mm: VideoCutLER for MMEngine / MMDetection 3.x.

Importing the package registers every vcl_mm component into mmdet's registries, so
configs only need ``custom_imports=dict(imports=['vcl_mm'])`` and
``default_scope='mmdet'``.
"""
from .version import __version__  # noqa: F401
from . import datasets, engine, evaluation, models  # noqa: F401,E402
