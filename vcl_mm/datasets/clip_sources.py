"""Training clips drawn from several sources (self-training's mix).

Self-training fine-tunes on ImageCut2Video clips (a
:class:`~vcl_mm.datasets.TargetAwareMixDataset`) together with real clips
sampled from pseudo-labelled videos (a
:class:`~vcl_mm.datasets.YTVISDataset` with
``UniformClipSample``, mmdet's sampling). mmdet's ``MultiSourceSampler`` puts a fixed
ratio of each source in every batch; it needs a concatenation with
``cumulative_sizes``, which is what :class:`ClipSourcesDataset` is.
"""
from mmengine.dataset import ConcatDataset

from vcl_mm.registry import DATASETS
from vcl_mm.utils import InputError

__all__ = ['ClipSourcesDataset']


@DATASETS.register_module()
class ClipSourcesDataset(ConcatDataset):
    """mmengine's ``ConcatDataset`` that also takes mixing wrappers.

    Subclassed because mmengine's refuses every source that is not a
    ``BaseDataset``, and mmdet's ``MultiImageMixDataset`` (so the
    ImageCut2Video source) is not one. The sources must have the same
    number of classes (their names may differ: 'fg' for MaskCut, 'object'
    for pseudo-labelled videos); the first source's metainfo is the mix's.

    Args:
        datasets (list[dict | dataset]): the sources, in the order of the
            sampler's ``source_ratio``.
        lazy_init (bool): as ``ConcatDataset``.
    """

    def __init__(self, datasets, lazy_init=False):
        if not datasets:
            raise InputError('ClipSourcesDataset needs at least one source '
                             '(train_dataloader.dataset.datasets)')
        self.datasets = []
        for i, dataset in enumerate(datasets):
            if isinstance(dataset, dict):
                dataset = DATASETS.build(dataset)
            for attr in ('metainfo', 'full_init', '__getitem__', '__len__'):
                if not hasattr(dataset, attr):
                    raise InputError(
                        f'source {i} of ClipSourcesDataset '
                        f'({type(dataset).__name__}) has no {attr}: pass a '
                        'dataset config or a dataset (wrapper)')
            self.datasets.append(dataset)
        self.ignore_keys = ['classes', 'palette']
        self._metainfo = self.datasets[0].metainfo
        counts = [len(d.metainfo.get('classes', ())) for d in self.datasets]
        if len(set(counts)) > 1:
            raise InputError(
                f'the sources of ClipSourcesDataset have {counts} classes; '
                'they must have as many (all class-agnostic, or the same '
                'classes)')
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()
