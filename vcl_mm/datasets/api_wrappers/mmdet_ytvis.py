"""mmdet's YouTube-VIS API (``YTVIS``, ``YTVISeval``), without importing
mmdet.

mmdet ships the official YouTube-VIS fork of pycocotools as
``mmdet/evaluation/functional/ytvis.py`` and ``ytviseval.py``; both import
only numpy and pycocotools, but ``import mmdet.evaluation`` imports mmdet's
package root (torch, mmcv, mmengine: about ten times the memory of the
offline evaluators). So the two files are located with
``importlib.util.find_spec('mmdet')`` (which does not import mmdet) and
executed as private modules. The private copy of ``ytviseval`` sees a
numpy whose ``np.float`` is ``float`` again: ``accumulate`` still spells
``astype(dtype=np.float)``, an alias numpy 1.24 removed. Nothing global is
patched.
"""
import importlib.util
import os.path as osp
import sys
import types

import numpy as np

__all__ = ['YTVIS', 'YTVISeval', 'Params', 'mmdet_ytvis_module']

_LOADED = {}


class _NumpyWithFloat(types.ModuleType):
    """numpy, plus the ``np.float`` alias (= ``float``) removed in 1.24."""
    float = float

    def __getattr__(self, name):
        return getattr(np, name)


def mmdet_ytvis_module(name):
    """mmdet's ``evaluation/functional/<name>.py`` as a private module.

    Args:
        name (str): ``'ytvis'`` or ``'ytviseval'``.
    """
    if name in _LOADED:
        return _LOADED[name]
    spec = importlib.util.find_spec('mmdet')
    if spec is None or not spec.submodule_search_locations:
        raise ImportError('mmdet is not installed: the YouTube-VIS '
                          'evaluation runs on its YTVIS / YTVISeval')
    root = list(spec.submodule_search_locations)[0]
    path = osp.join(root, 'evaluation', 'functional', f'{name}.py')
    mod_name = f'vcl_mm.datasets.api_wrappers._mmdet_{name}'
    mspec = importlib.util.spec_from_file_location(mod_name, path)
    module = importlib.util.module_from_spec(mspec)
    mspec.loader.exec_module(module)
    module.np = _NumpyWithFloat('numpy')
    sys.modules[mod_name] = module
    _LOADED[name] = module
    return module


YTVIS = mmdet_ytvis_module('ytvis').YTVIS
YTVISeval = mmdet_ytvis_module('ytviseval').YTVISeval
Params = mmdet_ytvis_module('ytviseval').Params
