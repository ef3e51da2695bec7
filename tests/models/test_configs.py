"""Every config under configs/ (but _base_) builds: its model, its datasets
(on generated data where the configured data root is absent, one item
through each pipeline) and its optimizer wrapper."""
import copy
import glob
import os.path as osp

import pytest
import torch
from model_helpers import ROOT
from mmengine.config import Config

from vcl_mm.testing.toy_data import write_image_set, write_video_set

CONFIGS = sorted(
    p for p in glob.glob(
        osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    if f'{osp.sep}_base_{osp.sep}' not in p)
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


@pytest.fixture(scope='module')
def generated(tmp_path_factory):
    """Generated stand-ins: still images with a COCO JSON (for MaskCut
    pseudo-labels) and videos in the YouTube-VIS and DAVIS layouts."""
    images = str(tmp_path_factory.mktemp('images'))
    write_image_set(images, num_images=4, seed=0, size=(96, 128))
    videos = str(tmp_path_factory.mktemp('videos'))
    write_video_set(videos, num_videos=2, seed=0, size=(64, 96), frames=(3, 4))
    return dict(images=images, videos=videos)


def generated_overrides(dataset_type, generated):
    """Keys that point a dataset of ``dataset_type`` at generated data.
    A config with a new dataset type needs an entry here."""
    table = {
        'MaskCutDataset':
        dict(
            data_root=generated['images'],
            ann_file='gt_masks.json',
            data_prefix=dict(img='images/')),
        'YTVISDataset':
        dict(
            data_root=generated['videos'],
            ann_file='ytvis_official.json',
            data_prefix=dict(img_path='JPEGImages')),
        'YouTubeVISDataset':
        dict(
            data_root=generated['videos'],
            ann_file='ytvis_mmdet.json',
            data_prefix=dict(img_path='JPEGImages')),
        'DAVISDataset':
        dict(
            data_root=generated['videos'],
            resolution='',
            ann_dir='Annotations'),
    }
    if dataset_type not in table:
        pytest.fail(f'no generated-data override for dataset type '
                    f'{dataset_type}: add one to generated_overrides() in '
                    'tests/models/test_configs.py')
    return table[dataset_type]


def leaf_datasets(dataset_cfg):
    """Leaf dataset configs inside wrappers (MultiImageMixDataset, ...)."""
    if 'datasets' in dataset_cfg:
        for sub in dataset_cfg['datasets']:
            yield from leaf_datasets(sub)
    elif 'dataset' in dataset_cfg:
        yield from leaf_datasets(dataset_cfg['dataset'])
    else:
        yield dataset_cfg


def point_at_generated(cfg, generated):
    for key in LOADERS:
        loader = cfg.get(key)
        if not loader:
            continue
        for ds in leaf_datasets(loader['dataset']):
            if not osp.isdir(ds.get('data_root') or ''):
                ds.update(generated_overrides(ds['type'], generated))


_MODELS = {}


def build_model(model_cfg):
    """Build (cached by config text: the ablations share their model)."""
    from mmdet.registry import MODELS
    key = repr(model_cfg)
    if key not in _MODELS:
        _MODELS.clear()
        _MODELS[key] = MODELS.build(copy.deepcopy(model_cfg))
    return _MODELS[key]


def check_maskcut_config(cfg):
    """MaskCut configs: a feature extractor and the NCut/CRF settings.

    DINO weights cannot ship, so extractors that take weights are built
    with seeded random ones (the ``random_init`` testing switch)."""
    from vcl_mm.maskcut.registry import build_extractor
    model_cfg = copy.deepcopy(cfg.model)
    if 'weights' in model_cfg:
        model_cfg.update(weights=None, random_init=True)
    extractor = build_extractor(model_cfg)
    size = 64
    feats = extractor(torch.zeros(1, 3, size, size))
    patch = extractor.patch_size
    assert feats.shape[0] == 1 and feats.shape[2:] == (size // patch,
                                                       size // patch)
    for key in ('fixed_size', 'tau', 'num_masks', 'crf'):
        assert key in cfg.maskcut, key


@pytest.mark.parametrize(
    'path', CONFIGS, ids=[osp.relpath(p, ROOT) for p in CONFIGS])
def test_config_builds(path, generated):
    from mmdet.registry import DATASETS
    from vcl_mm.utils import register_all_modules, resolve_variables
    from mmengine.optim import build_optim_wrapper
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(path)
    if 'maskcut' in cfg:
        check_maskcut_config(cfg)
        return
    point_at_generated(cfg, generated)
    resolve_variables(cfg)  # what the runner does

    model = build_model(cfg.model)
    assert sum(p.numel() for p in model.parameters()) > 0
    built = 0
    for key in LOADERS:
        loader = cfg.get(key)
        if not loader:
            continue
        dataset = DATASETS.build(copy.deepcopy(loader['dataset']))
        assert len(dataset) > 0, key
        item = dataset[0]
        assert isinstance(item['inputs'], (torch.Tensor, dict)), key
        built += 1
    assert built > 0, f'{path} has no dataloader'
    if cfg.get('optim_wrapper'):
        wrapper = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
        assert wrapper.optimizer.param_groups
