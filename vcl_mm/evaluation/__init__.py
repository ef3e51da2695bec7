"""Importing this package registers its components (see vcl_mm/__init__.py)."""
from . import exporters, functional, metrics  # noqa: F401,E402
