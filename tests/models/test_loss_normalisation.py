"""Mask-loss normalisation of both stages equals the official criterion's.

Official (``mask2former_video/modeling/criterion.py`` and Mask2Former's
image criterion): point BCE averaged over points, summed over (track,
frame) rows and divided by the number of tracks. With all mask logits 0
every point costs ln 2, so the weighted last-layer ``loss_mask`` is
``5 * T * ln 2`` for T-frame clips and ``5 * ln 2`` for images, whatever
the number of tracks and points.
"""
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.structures import InstanceData
from model_helpers import ROOT

VIDEO_SMOKE = osp.join(ROOT, 'configs', 'toy', 'videocutler_smoke_cpu.py')
IMAGE_SMOKE = osp.join(ROOT, 'configs', 'toy',
                       'cutler_mask2former_smoke_cpu.py')


@pytest.fixture(autouse=True)
def mmdet_scope():
    from vcl_mm.utils import register_all_modules
    register_all_modules(init_default_scope=True)


def _video_head(num_frames, **overrides):
    from mmdet.registry import MODELS
    cfg = Config.fromfile(VIDEO_SMOKE)
    head_cfg = dict(cfg.model.track_head, num_frames=num_frames, **overrides)
    head_cfg['train_cfg'] = Config(dict(head_cfg['train_cfg'], num_points=256))
    torch.manual_seed(0)
    return MODELS.build(head_cfg)


def _gt_video(num_tracks, num_frames, size=16):
    masks = torch.zeros(num_tracks, num_frames, size, size, dtype=torch.long)
    for i in range(num_tracks):
        masks[i, :, 2 * i:2 * i + 6, 3:9] = 1
    return InstanceData(
        labels=torch.zeros(num_tracks, dtype=torch.long), masks=masks)


@pytest.mark.parametrize('num_frames', [2, 3, 4])
@pytest.mark.parametrize('num_tracks', [1, 3])
def test_video_mask_loss_is_official_at_zero_logits(num_frames, num_tracks):
    head = _video_head(num_frames)
    queries = head.num_queries
    cls = torch.randn(2, queries, head.num_classes + 1)
    masks = torch.zeros(2, queries, num_frames, 8, 8)
    gts = [_gt_video(num_tracks, num_frames), _gt_video(1, num_frames)]
    _, loss_mask, loss_dice = head._loss_by_feat_single(
        cls, masks, gts, [{}, {}])
    assert float(loss_mask) == pytest.approx(
        5 * num_frames * math.log(2), rel=1e-5)
    assert torch.isfinite(loss_dice)


def test_mmdet_normalisation_stays_available_and_is_t_times_larger():
    torch.manual_seed(1)
    official = _video_head(3)
    mmdet = _video_head(3, official_mask_loss=False)
    cls = torch.randn(1, official.num_queries, 2)
    masks = torch.zeros(1, official.num_queries, 3, 8, 8)
    gts = [_gt_video(2, 3)]
    torch.manual_seed(2)
    _, ours, _ = official._loss_by_feat_single(cls, masks, gts, [{}])
    torch.manual_seed(2)
    _, theirs, _ = mmdet._loss_by_feat_single(cls, masks, gts, [{}])
    assert float(theirs) == pytest.approx(3 * float(ours), rel=1e-5)


def test_every_video_config_uses_the_official_head():
    """Recipe, ablations, smoke, quickstart and the fine-tuning project."""
    import glob
    paths = glob.glob(osp.join(ROOT, 'configs', 'videocutler', '**',
                               'videocutler_*.py'), recursive=True)
    paths += glob.glob(osp.join(ROOT, 'configs', 'toy', 'video*.py'))
    paths += glob.glob(osp.join(ROOT, 'configs', 'toy', 'quickstart_*.py'))
    paths += glob.glob(
        osp.join(ROOT, 'projects', 'VideoCutLERPretrain', 'configs', '*.py'))
    assert len(paths) >= 20
    for path in paths:
        head = Config.fromfile(path).model.track_head
        assert head.type == 'VideoCutLERTrackHead', path
        assert head.get('official_mask_loss', True), path


def test_image_mask_loss_is_official_at_zero_logits():
    from mmdet.registry import MODELS
    cfg = Config.fromfile(IMAGE_SMOKE)
    head_cfg = dict(cfg.model.panoptic_head)
    head_cfg['train_cfg'] = Config(dict(cfg.model.train_cfg, num_points=256))
    torch.manual_seed(0)
    head = MODELS.build(head_cfg)
    masks = torch.zeros(3, 16, 16, dtype=torch.long)
    for i in range(3):
        masks[i, 2 * i:2 * i + 5, 4:10] = 1
    gts = [InstanceData(labels=torch.zeros(3, dtype=torch.long), masks=masks)]
    cls = torch.randn(1, head.num_queries, 2)
    _, loss_mask, _ = head._loss_by_feat_single(
        cls, torch.zeros(1, head.num_queries, 8, 8), gts, [{}])
    assert float(loss_mask) == pytest.approx(5 * math.log(2), rel=1e-5)
