"""Helpers of the model tests: a tiny VideoCutLER and fake videos."""
import os.path as osp

import torch
from mmengine.config import Config

from mmdet.structures import DetDataSample, TrackDataSample
from vcl_mm.testing.runners import REPO_ROOT

ROOT = REPO_ROOT
SMOKE_VIDEO_CFG = osp.join(ROOT, 'configs', 'toy', 'videocutler_smoke_cpu.py')


def build_tiny_videocutler(**test_cfg):
    """The smoke recipe's model (ResNet-18, 64 channels, 10 queries) in
    eval mode with random weights."""
    from mmdet.registry import MODELS
    from vcl_mm.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    from vcl_mm.utils import resolve_variables
    cfg = resolve_variables(Config.fromfile(SMOKE_VIDEO_CFG))
    cfg.model.test_cfg = dict(cfg.model.get('test_cfg') or {}, **test_cfg)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model.eval()


def video_sample(num_frames, pad_hw, img_hw, ori_hw):
    """A TrackDataSample with the meta keys inference reads."""
    sample = TrackDataSample()
    sample.video_data_samples = [
        DetDataSample(
            metainfo=dict(
                batch_input_shape=pad_hw,
                img_shape=img_hw,
                ori_shape=ori_hw,
                frame_id=t)) for t in range(num_frames)
    ]
    return sample
