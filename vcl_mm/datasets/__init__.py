"""Datasets, pipeline transforms and data formats.

Light on purpose: importing the package imports nothing heavy, so the
numpy-only data formats (``vcl_mm.datasets.api_wrappers``) can be used
without torch or mmdet. The registered components live in
``vcl_mm.datasets.transforms`` and the ``*_dataset`` modules; see
:data:`vcl_mm.utils.setup_env.REGISTERING_MODULES`.
"""
import importlib

_LAZY = dict(
    MaskCutDataset='maskcut_dataset',
    DAVISDataset='davis_dataset',
    YTVISDataset='ytvis_dataset',
    ClipSourcesDataset='clip_sources',
    TargetAwareMixDataset='target_aware_mix')


def __getattr__(name):
    """``from vcl_mm.datasets import MaskCutDataset`` imports its module."""
    if name in _LAZY:
        module = importlib.import_module(f'{__name__}.{_LAZY[name]}')
        return getattr(module, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
