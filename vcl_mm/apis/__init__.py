"""High-level APIs: video reading and streaming inference (demos, tools).

``from vcl_mm.apis import VideoInferencer`` imports the inferencer on first
use: importing ``vcl_mm.apis`` itself stays light (no torch, no mmdet).
"""
import importlib

_LAZY = {'VideoInferencer': 'video_inferencer'}

__all__ = list(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        module = importlib.import_module(f'.{_LAZY[name]}', __name__)
        return getattr(module, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
