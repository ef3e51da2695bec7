"""Matching survives mixed precision: under float16 autocast the heads'
Hungarian matching (and DropLoss's IoU) runs in float32, as upstream's
matchers; non-finite losses are skipped by the AMP optim wrapper; the toy
recipes train under AMP."""
import copy
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData
from model_helpers import ROOT

from vcl_mm.testing.toy_data import write_image_set
from vcl_mm.utils.launch import load_config

VIDEO_SMOKE = osp.join(ROOT, 'configs', 'toy', 'videocutler_smoke_cpu.py')
IMAGE_SMOKE = osp.join(ROOT, 'configs', 'toy',
                       'cutler_mask2former_smoke_cpu.py')
FP16 = dict(device_type='cpu', dtype=torch.float16)


@pytest.fixture(autouse=True)
def registered():
    from vcl_mm.utils import register_all_modules
    register_all_modules(init_default_scope=True)


def build(cfg):
    from mmengine.registry import MODELS
    return MODELS.build(copy.deepcopy(cfg))


def video_head():
    """The smoke recipe's track head with the recipe's 12544 points per
    frame (37,632 per 3-frame clip)."""
    cfg = load_config(VIDEO_SMOKE).model.track_head
    cfg.train_cfg.num_points = 12544
    return build(cfg)


def image_head():
    cfg = load_config(IMAGE_SMOKE).model
    head = dict(
        cfg.panoptic_head,
        type='CutLERMask2FormerHead',
        train_cfg=dict(cfg.train_cfg, num_points=12544))
    return build(head)


@pytest.fixture
def record_costs(monkeypatch):
    """The cost matrices mmdet's HungarianAssigner hands to scipy."""
    from mmdet.models.task_modules.assigners import hungarian_assigner
    real, costs = hungarian_assigner.linear_sum_assignment, []

    def recording(cost):
        costs.append(np.asarray(cost, dtype=np.float64))
        return real(cost)

    monkeypatch.setattr(hungarian_assigner, 'linear_sum_assignment',
                        recording)
    return costs


def predictions(frames, cover, num_queries=10, size=64, seed=0):
    """Class and mask logits of a converged-looking model, and one target.

    Query 0 predicts the target (logit +8 inside, -8 outside), the others
    are confident background (about -8 everywhere); the target covers the
    top ``cover`` fraction of every frame.
    """
    g = torch.Generator().manual_seed(seed)
    shape = (num_queries, ) + ((frames, ) if frames else ()) + (size, size)
    masks = -8. + 0.5 * torch.randn(shape, generator=g)
    target = torch.zeros(shape[1:], dtype=torch.uint8)
    target[..., :int(round(cover * size)), :] = 1
    masks[0] = torch.where(target.bool(), 8., -8.)
    cls = torch.randn(num_queries, 2, generator=g)
    cls[0, 0] = 4.
    gt = InstanceData(
        labels=torch.zeros(1, dtype=torch.long), masks=target[None])
    return cls.half(), masks.half(), gt


def match(head, cls, masks, gt, autocast):
    torch.manual_seed(0)  # the same sampled points in both runs
    with torch.autocast(**FP16, enabled=autocast):
        out = head._get_targets_single(cls, masks, gt, dict())
    return out[4], out[6].pos_assigned_gt_inds  # pos_inds, gt index


@pytest.mark.parametrize('cover', [0.4, 0.95])
@pytest.mark.parametrize('kind', ['video', 'image'])
def test_matching_under_float16_autocast_is_float32(kind, cover,
                                                    record_costs):
    """0.4: the target covers ~15k of the 37,632 points of a 3-frame clip,
    so float16 summed BCE costs of background queries are +inf; 0.95: the
    dice numerator overflows too (nan, scipy refuses the matrix)."""
    head = video_head() if kind == 'video' else image_head()
    cls, masks, gt = predictions(3 if kind == 'video' else None, cover)
    if kind == 'image':  # as many points as a 3-frame clip
        head.num_points = 3 * 12544
    want = match(head, cls.float(), masks.float(), gt, autocast=False)
    got = match(head, cls, masks, gt, autocast=True)
    reference, amp = record_costs
    assert np.isfinite(amp).all(), amp
    np.testing.assert_allclose(amp, reference, rtol=1e-6)
    assert want[0].tolist() == got[0].tolist() == [0]
    assert want[1].tolist() == got[1].tolist() == [0]


def test_drop_loss_iou_under_float16_autocast_is_exact():
    """Pixel counts above 2048 are inexact in float16, above 65504 inf."""
    from vcl_mm.models.drop_loss import max_gt_iou
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 3, 160, 160, generator=g)
    logits[0] = 5.  # a query covering the whole clip: 76,800 pixels
    gt = torch.zeros(2, 3, 160, 160)
    gt[0, :, :150] = 1
    gt[1, :, 40:] = 1
    want = max_gt_iou(logits, gt)
    with torch.autocast(**FP16):
        got = max_gt_iou(logits.half(), gt)
    assert got.dtype == torch.float32
    assert torch.equal(got, want), (got, want)


# ------------------------------------------------------------- NaN losses
def wrapper(**kwargs):
    from vcl_mm.engine.optim_wrapper import DeviceAmpOptimWrapper
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    optim = torch.optim.AdamW(model.parameters(), lr=0.1)
    return model, DeviceAmpOptimWrapper(
        optimizer=optim, device='cpu', clip_grad=dict(max_norm=0.01),
        **kwargs)


def loss_of(model, scale=1.):
    return model(torch.ones(2, 3)).sum() * scale


def test_nonfinite_loss_skips_backward_and_step():
    model, wrap = wrapper()
    before = copy.deepcopy(model.state_dict())
    for bad in (float('nan'), float('inf')):
        wrap.update_params(loss_of(model, bad))
        for k, v in model.state_dict().items():
            assert torch.equal(v, before[k]), k
        assert all(p.grad is None for p in model.parameters())
    assert wrap.nonfinite_losses == 2
    wrap.update_params(loss_of(model))  # a finite loss trains again
    assert not torch.equal(model.weight, before['weight'])
    assert torch.isfinite(model.weight).all()


def test_nonfinite_loss_steps_on_earlier_accumulated_gradients():
    model, wrap = wrapper(accumulative_counts=2)
    wrap.update_params(loss_of(model))  # accumulated, no step yet
    before = model.weight.detach().clone()
    wrap.update_params(loss_of(model, float('nan')))  # boundary: steps
    assert not torch.equal(model.weight, before)
    assert torch.isfinite(model.weight).all()
    assert all(p.grad is None for p in model.parameters())


def test_nonfinite_loss_raise_and_backward_modes():
    model, wrap = wrapper(nonfinite_loss='raise')
    with pytest.raises(FloatingPointError, match='non-finite loss nan'):
        wrap.update_params(loss_of(model, float('nan')))
    model, wrap = wrapper(nonfinite_loss='backward')  # mmengine's
    wrap.update_params(loss_of(model, float('nan')))
    assert torch.isnan(model.weight).all()
    assert wrap.nonfinite_losses == 0


# ------------------------------------------------------------ AMP training
@pytest.fixture(scope='module')
def images(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('images'))
    write_image_set(root, num_images=4, seed=0, size=(96, 128))
    return root + '/'


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def toy(path, data_root, precision):
    cfg = load_config(path)
    cfg.train_dataloader.dataset.dataset.data_root = data_root
    if 'panoptic_head' in cfg.model:  # float32 matching (see the README)
        cfg.model.panoptic_head.type = 'CutLERMask2FormerHead'
    for step in cfg.train_dataloader.dataset.dataset.pipeline:
        for t in step.get('transforms', []):
            if 'scales' in t:  # the clip-level resize; low precision is slow
                t['scales'] = [(1333, 64)]  # on CPUs: small frames
    if precision == 'bfloat16':
        cfg.optim_wrapper = dict(
            cfg.optim_wrapper, type='DeviceAmpOptimWrapper', device='cpu')
    return cfg


@pytest.mark.parametrize('path, precision', [(VIDEO_SMOKE, 'bfloat16'),
                                             (IMAGE_SMOKE, 'float16')])
def test_toy_recipes_train_under_amp(path, precision, images, one_thread):
    """Two steps: bfloat16 through the recipe's AMP wrapper (what CPU AMP
    is), float16 by opening CPU float16 autocast around the step."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.runner import Runner
    from mmengine.runner.utils import set_random_seed
    set_random_seed(0)
    cfg = toy(path, images, precision)
    batch = next(iter(Runner.build_dataloader(cfg.train_dataloader, seed=0)))
    model = build(cfg.model)
    model.init_weights()
    wrap = build_optim_wrapper(model, cfg.optim_wrapper)
    enabled = precision == 'float16'
    for _ in range(2):
        with torch.autocast(**FP16, enabled=enabled):
            log = model.train_step(batch, wrap)
        assert all(np.isfinite(float(v)) for v in log.values()), log
    assert getattr(wrap, 'nonfinite_losses', 0) == 0
