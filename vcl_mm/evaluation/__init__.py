"""Importing this package registers its components (see vcl_mm/__init__.py)."""
from vcl_mm import LIGHT_IMPORT
from . import exporters, functional  # noqa: F401,E402

if not LIGHT_IMPORT:
    from . import metrics  # noqa: F401,E402
