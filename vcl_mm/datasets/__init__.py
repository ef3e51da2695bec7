"""Importing this package registers its components (see vcl_mm/__init__.py)."""
from . import transforms  # noqa: F401,E402
from .maskcut_dataset import MaskCutDataset  # noqa: F401,E402
