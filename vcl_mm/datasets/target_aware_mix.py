"""Mix datasets whose source draw may depend on the target item.

Upstream (detectron2) pairs the images / clips of one minibatch, and its
batches are grouped by aspect ratio (``ASPECT_RATIO_GROUPING``, on by default:
``w > h`` vs ``h >= w`` of the original image), so a copy-paste source always
has the target's orientation. mmdet's ``MultiImageMixDataset`` asks a mixing
transform for source indices without telling it the target;
:class:`TargetAwareMixDataset` passes the loaded target along, and
:func:`draw_same_orientation` draws from the target's orientation group.
"""
import collections.abc
import copy
from typing import List, Optional, Sequence

import numpy as np
from mmdet.datasets import MultiImageMixDataset

from vcl_mm.registry import DATASETS
from vcl_mm.utils import InputError

_CACHE_ATTR = '_vcl_orientation_groups'


def is_landscape(height: int, width: int) -> bool:
    """detectron2's grouping rule: landscape when ``w > h``."""
    return int(width) > int(height)


def target_orientation(results: dict) -> bool:
    """Orientation of a loaded item (image or clip) from its original size.

    Args:
        results (dict): pipeline output with ``ori_shape`` (h, w) (a list of
            them for clips) or ``img``.

    Returns:
        bool: True for landscape (``w > h``).
    """
    shape = results.get('ori_shape')
    if shape is None:
        img = results['img']
        shape = (img[0] if isinstance(img, list) else img).shape[:2]
    elif isinstance(shape, list) and shape and isinstance(
            shape[0], (tuple, list)):
        shape = shape[0]  # a clip: one (h, w) per frame
    return is_landscape(shape[0], shape[1])


def orientation_groups(dataset) -> Sequence[np.ndarray]:
    """(landscape, portrait) index arrays of ``dataset``, cached.

    Uses ``dataset.orientation_groups()`` when the dataset provides it (e.g.
    :class:`~vcl_mm.datasets.MaskCutDataset`, computed once before
    serialisation), else reads ``width`` / ``height`` of every data info.
    """
    groups = getattr(dataset, _CACHE_ATTR, None)
    if groups is None or sum(map(len, groups)) != len(dataset):
        if hasattr(dataset, 'orientation_groups'):
            groups = dataset.orientation_groups()
        else:
            flags = np.array([
                is_landscape(info['height'], info['width'])
                for info in (dataset.get_data_info(i)
                             for i in range(len(dataset)))
            ], bool)
            groups = (np.flatnonzero(flags), np.flatnonzero(~flags))
        setattr(dataset, _CACHE_ATTR, groups)
    return groups


def draw_same_orientation(dataset, target: dict) -> int:
    """A random index of ``dataset`` with the orientation of ``target``
    (any index when that group is empty)."""
    landscape, portrait = orientation_groups(dataset)
    group = landscape if target_orientation(target) else portrait
    if len(group) == 0:
        return int(np.random.randint(0, len(dataset)))
    return int(group[np.random.randint(0, len(group))])


def draw_source_index(transform, dataset, target: Optional[dict]) -> int:
    """The source index of a mixing transform with ``match_orientation``:
    from the target's orientation group when it is set (which needs
    :class:`TargetAwareMixDataset` to pass ``target``), else any index.

    Raises:
        InputError: orientation matching without a target.
    """
    if not transform.match_orientation:
        return int(np.random.randint(0, len(dataset)))
    if target is None:
        raise InputError(
            f'{type(transform).__name__}(match_orientation=True) needs the '
            "target item to draw its source, which mmdet's "
            'MultiImageMixDataset does not pass: wrap the dataset in '
            "type='TargetAwareMixDataset' (or build the config in the "
            "vcl_mm scope, default_scope='vcl_mm', where "
            "MultiImageMixDataset is target-aware), or set "
            'match_orientation=False')
    return draw_same_orientation(dataset, target)


# Also the vcl_mm scope's 'MultiImageMixDataset': it behaves as mmdet's for
# every transform that does not ask for the target, so a config written with
# mmdet's name gets ImageCut2Video's default orientation matching too.
@DATASETS.register_module(
    name=['TargetAwareMixDataset', 'MultiImageMixDataset'])
class TargetAwareMixDataset(MultiImageMixDataset):
    """``MultiImageMixDataset`` that hands the loaded target to mixing
    transforms.

    Subclassed because mmdet calls ``transform.get_indexes(dataset)``
    without the target, so a source cannot be drawn from the target's
    aspect-ratio group as upstream's batch pairing does. A transform that
    sets ``needs_target = True`` is called as
    ``get_indexes(dataset, target_results)``; any other transform is called
    as by mmdet. Everything else (refetching, ``skip_type_keys``) behaves
    as in the parent.
    """

    def _draw_sources(self, transform, results: dict) -> List[dict]:
        for _ in range(self.max_refetch):
            if getattr(transform, 'needs_target', False):
                indexes = transform.get_indexes(self.dataset, results)
            else:
                indexes = transform.get_indexes(self.dataset)
            if not isinstance(indexes, collections.abc.Sequence):
                indexes = [indexes]
            sources = [copy.deepcopy(self.dataset[i]) for i in indexes]
            if None not in sources:
                return sources
        raise RuntimeError(
            f'{type(self.dataset).__name__}: the loading pipeline returned '
            f'None {self.max_refetch} times in a row for the sources of '
            f'{type(transform).__name__}; check the dataset and its pipeline')

    def _apply(self, transform, results: dict) -> dict:
        for _ in range(self.max_refetch):
            out = transform(copy.deepcopy(results))
            if out is not None:
                return out
        raise RuntimeError(
            f'{type(transform).__name__} returned None {self.max_refetch} '
            'times in a row; check the pipeline of the dataset wrapper')

    def __getitem__(self, idx: int) -> dict:
        results = copy.deepcopy(self.dataset[idx])
        for transform, kind in zip(self.pipeline, self.pipeline_types):
            if self._skip_type_keys is not None and \
                    kind in self._skip_type_keys:
                continue
            if hasattr(transform, 'get_indexes'):
                results['mix_results'] = self._draw_sources(
                    transform, results)
            results = self._apply(transform, results)
            results.pop('mix_results', None)
        return results
