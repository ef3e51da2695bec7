"""Evaluation: registered metrics (``vcl_mm.evaluation.metrics``, needs
mmdet) on numpy-only protocol code (``vcl_mm.evaluation.functional``, used
alone by the offline evaluators). Importing the package imports neither."""
