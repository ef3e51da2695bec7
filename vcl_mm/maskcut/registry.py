"""Where MaskCut finds its feature extractors (``model.type``).

An mmengine :class:`~mmengine.registry.Registry`, a child of mmengine's
root ``MODELS`` (importable without mmcv / mmdet, which the cut stage does
not need). Its scope is ``vcl_mm_maskcut``, not ``vcl_mm``: the training
registries (``vcl_mm/registry.py``) hold the scope ``vcl_mm`` under
mmdet's, and mmengine resolves a scope by searching the whole tree and by
importing ``<scope>.registry``, which for ``vcl_mm`` imports mmdet. Any
``MODELS`` registry finds an extractor as
``vcl_mm_maskcut.DinoViTKeyExtractor``; MaskCut configs name it bare.
"""
import inspect

from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import Registry

from vcl_mm.utils import InputError

__all__ = ['EXTRACTORS', 'get_extractor', 'build_extractor']

#: the extractors; register one with ``@EXTRACTORS.register_module()``
EXTRACTORS = Registry(
    'maskcut extractor',
    parent=MMENGINE_MODELS,
    scope='vcl_mm_maskcut',
    locations=['vcl_mm.maskcut.features'])


def get_extractor(name):
    """The extractor class registered as ``name``, or None."""
    try:  # an unknown name ends in mmengine's import-by-string attempt
        cls = EXTRACTORS.get(name) if isinstance(name, str) else None
    except RuntimeError:
        cls = None
    return cls if inspect.isclass(cls) else None


def build_extractor(cfg):
    """Build the extractor a ``model`` config names.

    Built from the class itself rather than ``EXTRACTORS.build``, which
    would switch to the process's default scope (``mmdet`` / ``vcl_mm``
    when a training process also runs MaskCut) and miss the extractors.

    Args:
        cfg (dict): ``type`` plus the class's arguments.

    Returns:
        torch.nn.Module

    Raises:
        InputError: the type is not registered.
    """
    cfg = dict(cfg)
    name = cfg.pop('type', None)
    cls = get_extractor(name)
    if cls is None:
        raise InputError(
            f'unknown MaskCut model.type {name!r}; known: '
            f'{", ".join(sorted(EXTRACTORS.module_dict)) or "none"} (set '
            'model.type, or list the module that registers it with '
            'vcl_mm.maskcut.registry.EXTRACTORS in custom_imports)')
    return cls(**cfg)
