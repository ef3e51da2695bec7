"""Importing this package registers its components (see vcl_mm/__init__.py)."""
