"""Self-training's training mix: pseudo-labelled real clips (YTVISDataset +
mmdet's frame sampling) next to ImageCut2Video clips in every batch
(ClipSourcesDataset + MultiSourceSampler), accepted by the model."""
import json
import os.path as osp

import numpy as np
import pytest
import torch

from vcl_mm.apis.pseudo_labels import build_pseudo_json
from vcl_mm.testing.runners import REPO_ROOT
from vcl_mm.testing.toy_data import write_image_set, write_video_set
from vcl_mm.utils import InputError
from vcl_mm.utils.launch import load_config

CONFIG = osp.join(REPO_ROOT, 'configs', 'toy', 'self_train_quickstart.py')


@pytest.fixture(scope='module')
def mix_cfg(tmp_path_factory):
    root = tmp_path_factory.mktemp('mix')
    images = str(root / 'images')
    write_image_set(images, num_images=4, seed=0, size=(96, 128))
    videos = write_video_set(str(root / 'videos'), num_videos=2, seed=1,
                             size=(64, 96), frames=(5, 6))
    with open(videos['ytvis_official']) as f:
        gt = json.load(f)
    entries = []
    for v in gt['videos']:
        tracks = [dict(score=1., rles=list(a['segmentations']))
                  for a in gt['annotations'] if a['video_id'] == v['id']]
        tracks[0]['rles'][1] = None  # a partial track, as pseudo-labels
        entries.append(dict(file_names=v['file_names'], height=v['height'],
                            width=v['width'], tracks=tracks))
    pseudo = str(root / 'pseudo.json')
    with open(pseudo, 'w') as f:
        json.dump(build_pseudo_json(entries), f)
    cfg = load_config(CONFIG)
    sources = cfg.train_dataloader.dataset.datasets
    sources[0].dataset.data_root = images + '/'
    sources[0].dataset.ann_file = 'gt_masks.json'
    sources[1].ann_file = pseudo
    sources[1].data_prefix = dict(img_path=videos['img_dir'])
    return cfg


def test_every_batch_mixes_both_sources_and_trains(mix_cfg):
    from mmdet.registry import MODELS
    from mmengine.runner import Runner
    torch.manual_seed(0)
    loader = Runner.build_dataloader(mix_cfg.train_dataloader, seed=0)
    assert type(loader.dataset).__name__ == 'ClipSourcesDataset'
    batches = iter(loader)
    for _ in range(3):
        batch = next(batches)
        samples = batch['data_samples']
        kinds = ['paste_status' in s[0].metainfo for s in samples]
        assert kinds == [True, False]  # ImageCut2Video, then a real clip
        assert [len(x) for x in batch['inputs']] == [3, 3]
        real = samples[1]
        frame_ids = [f.frame_id for f in real]
        assert frame_ids == sorted(frame_ids)  # frames of one video
        assert len({f.img_path.split('/')[-2] for f in real}) == 1
        for f in real:
            assert len(f.gt_instances.masks) == len(f.gt_instances)
            assert (f.gt_instances.instances_ids >= 1).all()
    model = MODELS.build(mix_cfg.model)
    assert model.track_head.mask_loss_on_labelled_frames
    model.train()
    data = model.data_preprocessor(batch, True)
    losses = model.loss(**data)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total) and total > 0


def test_sources_must_agree_on_the_number_of_classes(mix_cfg):
    from mmdet.registry import DATASETS
    sources = mix_cfg.train_dataloader.dataset.datasets
    two = dict(sources[1], class_agnostic=False,
               metainfo=dict(classes=('object', 'other')))
    with pytest.raises(InputError, match=r'\[1, 2\] classes'):
        DATASETS.build(dict(type='ClipSourcesDataset',
                            datasets=[sources[1], two]))
    mixed = DATASETS.build(dict(type='ClipSourcesDataset',
                                datasets=[sources[0], sources[1]]))
    lengths = [len(d) for d in mixed.datasets]
    assert len(mixed) == sum(lengths) and lengths[1] == 2
    assert np.array_equal(mixed.cumulative_sizes, np.cumsum(lengths))
