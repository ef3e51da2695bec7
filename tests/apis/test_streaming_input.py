"""Streaming inference (demo, track_video, self-training) feeds the model
the test pipeline's tensors exactly: same resize rule (detectron2's
``int(x + 0.5)`` sizes, PIL bilinear), same normalisation and padding."""
import os
import os.path as osp
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from vcl_mm.apis.inference import (WindowFrames, load_video_config,
                                   resize_from_test_pipeline)
from vcl_mm.apis.video_io import VideoSource
from vcl_mm.testing.runners import REPO_ROOT
from vcl_mm.utils import InputError

EVAL_DAVIS = osp.join(REPO_ROOT, 'configs', 'videocutler',
                      'eval_davis2017_val.py')
QUICKSTART = osp.join(REPO_ROOT, 'configs', 'toy',
                      'quickstart_videocutler.py')
TRAIN_RECIPE = osp.join(REPO_ROOT, 'configs', 'videocutler',
                        'videocutler_r50_8xb2-80k_imagenet.py')


def preprocessor(cfg):
    from mmdet.registry import MODELS
    return MODELS.build(cfg.model.data_preprocessor)


def pipeline_videos(cfg, data_root, resolution):
    """What tools/test.py feeds the model for each sequence: the config's
    test dataset and pipeline, then the model's data preprocessor."""
    from mmdet.registry import DATASETS
    from mmengine.dataset import pseudo_collate
    ds_cfg = cfg.test_dataloader.dataset
    ds_cfg.update(data_root=data_root, resolution=resolution, split='val',
                  ann_dir=None)
    dataset = DATASETS.build(ds_cfg)
    pre = preprocessor(cfg)
    for i in range(len(dataset)):
        out = pre(pseudo_collate([dataset[i]]), False)
        video = out['data_samples'][0]
        yield video[0].img_path, out['inputs'][0], video[0].metainfo


def streamed(cfg, folder, window=7, short_side=None):
    """The streaming path's tensors of a frame folder, window by window."""
    model = SimpleNamespace(data_preprocessor=preprocessor(cfg))
    resize, _ = resize_from_test_pipeline(cfg, short_side)
    frames = WindowFrames(VideoSource(folder), model, resize)
    x = torch.cat([
        frames[s:min(s + window, len(frames))]
        for s in range(0, len(frames), window)
    ])
    return x, frames.metainfo()


def check_same(cfg, data_root, resolution):
    checked = 0
    for img_path, expected, meta in pipeline_videos(cfg, data_root,
                                                    resolution):
        x, stream_meta = streamed(cfg, osp.dirname(img_path))
        assert x.shape == expected.shape, img_path
        assert torch.equal(x, expected), (
            img_path, (x - expected).abs().max())
        for key in ('img_shape', 'pad_shape', 'ori_shape'):
            assert tuple(stream_meta[key]) == tuple(meta[key][:2]), key
        assert np.allclose(stream_meta['scale_factor'],
                           meta['scale_factor'])
        checked += 1
    return checked


def test_davis_frames_stream_as_the_test_pipeline(shared_data, tmp_path):
    """854x480 DAVIS frames: 641x360 (not 640), PIL bilinear, padded to
    672x384, bit-identical to the evaluation config's tensors."""
    cfg = load_video_config(EVAL_DAVIS)
    davis = osp.join(str(shared_data), 'davis2016-mini')
    # the first 9 frames of each sequence, to stay fast
    for sub in ('JPEGImages', 'Annotations'):
        for seq in os.listdir(osp.join(davis, sub, '480p')):
            os.makedirs(tmp_path / sub / '480p' / seq)
            for name in sorted(os.listdir(osp.join(davis, sub, '480p',
                                                   seq)))[:9]:
                os.symlink(osp.join(davis, sub, '480p', seq, name),
                           tmp_path / sub / '480p' / seq / name)
    assert check_same(cfg, str(tmp_path), '480p') == 3
    x, meta = streamed(cfg, str(tmp_path / 'JPEGImages' / '480p' / 'bear'))
    assert meta['img_shape'] == (360, 641)


def write_davis_layout(root, sizes, frames=4):
    """A DAVIS-layout folder with one sequence per (w, h) size."""
    rng = np.random.default_rng(0)
    for w, h in sizes:
        seq = f'seq_{w}x{h}'
        for sub, mode in (('JPEGImages', 'RGB'), ('Annotations', 'L')):
            os.makedirs(osp.join(root, sub, seq), exist_ok=True)
        # smooth content, as real frames, so that interpolation matters
        base = rng.integers(0, 255, (h // 8 + 1, w // 8 + 1, 3), np.uint8)
        for t in range(frames):
            img = Image.fromarray(np.roll(base, t, 1)).resize((w, h))
            img.save(osp.join(root, 'JPEGImages', seq, f'{t:05d}.png'))
            Image.new('L', (w, h)).save(
                osp.join(root, 'Annotations', seq, f'{t:05d}.png'))


@pytest.mark.parametrize('config', [EVAL_DAVIS, QUICKSTART])
def test_odd_sizes_stream_as_the_test_pipeline(tmp_path, config):
    """Odd sizes (a 0.5 rounding, an odd short side, a long side above the
    1333 cap), with the official input (PIL) and the quickstart's (cv2):
    streaming takes the rule from the config, so both match."""
    write_davis_layout(str(tmp_path), [(854, 480), (481, 263), (2001, 300)])
    cfg = load_video_config(config)
    assert check_same(cfg, str(tmp_path), '') == 3


def test_the_davis_size_rounds_as_detectron2():
    """detectron2's ResizeShortestEdge: int(854 * 0.75 + 0.5) = 641."""
    cfg = load_video_config(EVAL_DAVIS)
    resize, _ = resize_from_test_pipeline(cfg)
    source = SimpleNamespace(height=480, width=854)
    frames = WindowFrames(source, SimpleNamespace(
        data_preprocessor=preprocessor(cfg)), resize)
    assert frames.img_shape == (360, 641)
    assert frames.pad_shape == (384, 672)


def test_short_side_replaces_the_test_scale_only():
    cfg = load_video_config(EVAL_DAVIS)
    resize, where = resize_from_test_pipeline(cfg, short_side=128)
    assert resize['scale'] == (1333, 128)
    assert resize['backend'] == 'pillow'
    assert 'short side 128' in where
    with pytest.raises(InputError, match=r'short side 2000 must be in '
                       r'\[1, 1333\]'):
        resize_from_test_pipeline(cfg, short_side=2000)


def test_a_config_without_test_pipeline_streams_the_official_input():
    """Training recipes carry no test pipeline; the official demo resizes
    with the recipe's test sizes, i.e. the official test input."""
    train = resize_from_test_pipeline(load_video_config(TRAIN_RECIPE))
    official = resize_from_test_pipeline(load_video_config(EVAL_DAVIS))
    assert train[0] == official[0]
    assert 'official test input' in train[1]


@pytest.mark.parametrize('extra, message', [
    (dict(type='RandomFlip', prob=1.0), 'has a RandomFlip step'),
    (dict(type='Resize', scale=(640, 320), keep_ratio=True),
     'has 2 Resize steps'),
])
def test_test_pipelines_streaming_cannot_reproduce_are_refused(
        extra, message):
    cfg = load_video_config(EVAL_DAVIS)
    broadcaster = cfg.test_dataloader.dataset.pipeline[0]
    broadcaster.transforms.append(extra)
    with pytest.raises(InputError, match=message):
        resize_from_test_pipeline(cfg)
