"""The smoke recipes train; the image stage initialises the video stage."""
import copy
import os.path as osp

import numpy as np
import pytest
import torch
from model_helpers import ROOT

from vcl_mm.testing.toy_data import write_image_set
from vcl_mm.utils.launch import load_config

VIDEO_SMOKE = osp.join(ROOT, 'configs', 'toy', 'videocutler_smoke_cpu.py')
IMAGE_SMOKE = osp.join(ROOT, 'configs', 'toy',
                       'cutler_mask2former_smoke_cpu.py')
VIDEO_RECIPE = osp.join(ROOT, 'configs', 'videocutler',
                        'videocutler_r50_8xb2-80k_imagenet.py')
IMAGE_RECIPE = osp.join(ROOT, 'configs', 'cutler',
                        'cutler_mask2former_r50_8xb2-lsj-160k_imagenet.py')


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    """Generated images + COCO JSON standing in for MaskCut labels."""
    root = str(tmp_path_factory.mktemp('images'))
    write_image_set(root, num_images=6, seed=0, size=(96, 128))
    return root + '/'


def smoke_cfg(path, data_root, work_dir=None, iters=None):
    cfg = load_config(path)
    cfg.train_dataloader.dataset.dataset.data_root = data_root
    if work_dir is not None:
        cfg.work_dir = work_dir
    if iters is not None:
        cfg.train_cfg.max_iters = iters
        cfg.param_scheduler.end = iters
        cfg.default_hooks.checkpoint.interval = iters
        cfg.default_hooks.logger.interval = 1
    return cfg


@pytest.fixture(autouse=True)
def mmdet_scope():
    from vcl_mm.utils import register_all_modules
    register_all_modules(init_default_scope=True)


def build(cfg):
    from mmdet.registry import MODELS
    return MODELS.build(copy.deepcopy(cfg.model))


@pytest.fixture
def one_thread():
    """One torch thread: on a small shared CPU, OpenMP threads competing
    with other jobs make these small steps 5-50x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_video_smoke_loss_goes_down_on_a_fixed_clip(images, one_thread):
    """20 steps on one fixed batch of two ImageCut2Video clips."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.runner import Runner
    from mmengine.runner.utils import set_random_seed
    set_random_seed(0)
    cfg = smoke_cfg(VIDEO_SMOKE, images)
    batch = next(iter(Runner.build_dataloader(cfg.train_dataloader, seed=0)))
    assert batch['inputs'][0].shape[0] == 3  # 3-frame clips
    model = build(cfg)
    model.init_weights()
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    losses = []
    for _ in range(20):
        log = model.train_step(batch, wrapper)
        losses.append(float(log['loss']))
    assert all(np.isfinite(losses))
    first, last = np.mean(losses[:3]), np.mean(losses[-3:])
    assert last < 0.8 * first, losses


@pytest.fixture(scope='module')
def image_stage_ckpt(images, tmp_path_factory):
    """Three iterations of the image-stage smoke recipe with the runner."""
    from mmengine.runner import Runner
    work_dir = str(tmp_path_factory.mktemp('cutler'))
    runner = Runner.from_cfg(smoke_cfg(IMAGE_SMOKE, images, work_dir, 3))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # see one_thread()
    try:
        runner.train()
    finally:
        torch.set_num_threads(threads)
    return osp.join(work_dir, 'iter_3.pth')


def test_image_smoke_trains_with_copy_paste(image_stage_ckpt):
    state = torch.load(
        image_stage_ckpt, map_location='cpu', weights_only=False)
    assert state['meta']['iter'] == 3
    keys = state['state_dict']
    assert any(k.startswith('panoptic_head.transformer_decoder') for k in keys)


def test_image_stage_checkpoint_initialises_video_model(
        image_stage_ckpt, images):
    """load_from of the video recipe: every video key comes from the image
    checkpoint, panoptic_head.* renamed to track_head.*, nothing left."""
    from mmengine.runner import load_checkpoint

    from vcl_mm.utils import register_checkpoint_loader
    register_checkpoint_loader()  # what the runner does before loading
    video = build(smoke_cfg(VIDEO_SMOKE, images))
    before = {k: v.clone() for k, v in video.state_dict().items()}
    image_sd = torch.load(
        image_stage_ckpt, map_location='cpu', weights_only=False)['state_dict']
    expected = {
        k.replace('panoptic_head.', 'track_head.', 1): v
        for k, v in image_sd.items()
    }
    assert set(expected) == set(before)
    load_checkpoint(video, image_stage_ckpt, map_location='cpu', strict=True)
    after = video.state_dict()
    for key, value in expected.items():
        assert torch.equal(after[key], value), key
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert any(k.startswith('track_head.transformer_decoder') for k in changed)
    assert any(k.startswith('backbone.') for k in changed)


def test_full_recipes_share_checkpoint_keys():
    """The R50 image recipe's keys are the R50 video recipe's keys."""
    image = build(load_config(IMAGE_RECIPE)).state_dict()
    video = build(load_config(VIDEO_RECIPE))
    renamed = {
        k.replace('panoptic_head.', 'track_head.', 1): v
        for k, v in image.items()
    }
    result = video.load_state_dict(image, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    own = video.state_dict()
    assert set(renamed) == set(own)
    assert all(renamed[k].shape == own[k].shape for k in own)
