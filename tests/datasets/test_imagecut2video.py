"""ImageCut2Video and the clip transforms: invariants on known masks.

Target frames are black and source frames white, so the pasted region
(alpha) is visible in the output pixels and can be compared with the labels.
"""
import copy
import os.path as osp

import numpy as np
import pytest
import torch
from mmcv.transforms import TransformBroadcaster
from mmdet.datasets.transforms import PackTrackInputs
from mmdet.registry import DATASETS, MODELS
from mmdet.structures.mask import BitmapMasks
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from vcl_mm.testing.toy_data import write_image_set
from vcl_mm.datasets.transforms import (ImageCut2Video, ImageToClip,
                                        RandomBrightnessContrast,
                                        RandomCenterRotate)
from vcl_mm.datasets.api_wrappers.masks import mask_boxes
from vcl_mm.datasets.transforms.mask_ops import resize_masks, warp_masks
from vcl_mm.utils import InputError
from vcl_mm.testing.runners import REPO_ROOT
from vcl_mm.utils.launch import load_config

ROOT = REPO_ROOT
DATA_CFG = osp.join(ROOT, 'configs', '_base_', 'datasets', 'imagecut2video.py')
SMOKE_CFG = osp.join(ROOT, 'configs', 'toy', 'video_smoke_generated.py')
H, W = 60, 80


def box_mask(y0, y1, x0, x1, h=H, w=W):
    m = np.zeros((h, w), np.uint8)
    m[y0:y1, x0:x1] = 1
    return m


def make_clip(masks, num_frames=3, value=0, h=H, w=W):
    """A static clip from constant-colour frames and (N, h, w) masks."""
    masks = np.asarray(masks, np.uint8).reshape(-1, h, w)
    results = dict(
        img=np.full((h, w, 3), value, np.uint8),
        img_id=7,
        img_path='x.jpg',
        ori_shape=(h, w),
        img_shape=(h, w),
        gt_masks=BitmapMasks(masks, h, w),
        gt_bboxes_labels=np.zeros(len(masks), np.int64),
        gt_ignore_flags=np.zeros(len(masks), bool),
        instances=[{}] * len(masks))
    return ImageToClip(num_frames=num_frames)(results)


def paste(target, source, seed=0, **kwargs):
    np.random.seed(seed)
    clip = copy.deepcopy(target)
    clip['mix_results'] = [copy.deepcopy(source)]
    return ImageCut2Video(**kwargs)(clip)


def split_ids(out, t, num_target):
    ids = out['gt_instances_ids'][t]
    masks = out['gt_masks'][t].masks.astype(bool)
    return masks[ids <= num_target], masks[ids > num_target], ids


TARGET = make_clip([box_mask(5, 25, 5, 30), box_mask(35, 55, 45, 75)])
SOURCE = make_clip([box_mask(10, 30, 40, 60),
                    box_mask(40, 50, 5, 20)],
                   value=255)


@pytest.mark.parametrize('num_frames', [1, 2, 3, 4])
def test_frame_count_and_packing(num_frames):
    out = paste(
        make_clip(TARGET['gt_masks'][0].masks, num_frames),
        make_clip(SOURCE['gt_masks'][0].masks, num_frames, 255),
        max_cover_ratio=None)
    for key in ('img', 'gt_masks', 'gt_instances_ids', 'gt_bboxes',
                'gt_bboxes_labels', 'img_id', 'frame_id', 'paste_status'):
        assert len(out[key]) == num_frames, key
    packed = PackTrackInputs(meta_keys=('paste_status', ))(out)
    assert packed['inputs'].shape == (num_frames, 3, H, W)
    samples = packed['data_samples']
    assert len(samples) == num_frames
    for t, sample in enumerate(samples):
        gt = sample.gt_instances
        assert isinstance(gt.masks, BitmapMasks)
        assert (gt.instances_ids >= 1).all()
        assert (gt.labels == 0).all()
        assert sample.frame_id == t
        np.testing.assert_array_equal(gt.bboxes.numpy(),
                                      mask_boxes(gt.masks.masks))


@pytest.mark.parametrize('seed', range(8))
def test_paste_invariants(seed):
    # nearest masks: areas scale exactly ('any', the default, grows each
    # pasted mask by at most the one-pixel bilinear footprint)
    out = paste(
        TARGET,
        SOURCE,
        seed,
        max_cover_ratio=None,
        require_equal_count=False,
        mask_interpolation='nearest')
    assert out['paste_status'][0] == 'pasted'
    pasted_ids = None
    for t in range(3):
        static, pasted, ids = split_ids(out, t, 2)
        alpha = out['img'][t].any(-1)  # white source pixels
        # pasted masks are exactly the alpha region
        np.testing.assert_array_equal(pasted.any(0), alpha)
        # static masks never overlap pasted ones, = target AND NOT alpha
        assert not (static[:, None] & pasted[None]).any()
        tgt = TARGET['gt_masks'][t].masks.astype(bool)
        kept = ids[ids <= 2] - 1
        np.testing.assert_array_equal(static, tgt[kept] & ~alpha)
        # each pasted object is the source object scaled by r in [0.8, 1]
        areas = pasted.reshape(len(pasted), -1).sum(1)
        source_areas = np.array([400, 150])[ids[ids > 2] - 3]
        assert (areas <= source_areas).all()
        assert (areas >= 0.8**2 * source_areas * 0.85).all()
        # ids: consistent over frames, >= 1, pasted after the static ones
        this = sorted(ids[ids > 2].tolist())
        assert pasted_ids is None or this == pasted_ids
        pasted_ids = this
        assert (ids >= 1).all() and len(set(ids.tolist())) == len(ids)
    assert pasted_ids == [3, 4]


def test_source_without_masks_gives_target_clip():
    out = paste(TARGET, make_clip(np.zeros((0, H, W)), value=255))
    assert out['paste_status'] == ['no_source_masks'] * 3
    for t in range(3):
        assert not out['img'][t].any()
        assert out['gt_instances_ids'][t].tolist() == [1, 2]


def test_target_without_masks_gets_pasted_objects():
    out = paste(make_clip(np.zeros((0, H, W))), SOURCE)
    assert out['paste_status'][0] == 'pasted'
    for t in range(3):
        assert out['gt_instances_ids'][t].tolist() == [1, 2]
        np.testing.assert_array_equal(out['gt_masks'][t].masks.any(0),
                                      out['img'][t].any(-1))
    packed = PackTrackInputs()(out)
    assert len(packed['data_samples']) == 3


def test_both_without_masks_is_valid():
    out = paste(
        make_clip(np.zeros((0, H, W))),
        make_clip(np.zeros((0, H, W)), value=255))
    packed = PackTrackInputs()(out)
    assert all(len(s.gt_instances) == 0 for s in packed['data_samples'])


LEFT = box_mask(0, H, 0, W // 2)  # source object: left half, pasted at r=1


@pytest.mark.parametrize(
    'target_box, skipped',
    [
        ((10, 30, 5, 35), True),  # fully covered
        ((10, 30, 30, 50), True),  # exactly half covered (>= 0.5)
        ((10, 30, 31, 51), False),  # 9/20 covered
        ((10, 30, 50, 70), False),  # untouched
    ])
def test_frame0_cover_rule(target_box, skipped):
    target = make_clip([box_mask(*target_box)])
    out = paste(
        target,
        make_clip([LEFT], value=255),
        scale_range=(1., 1.),
        require_equal_count=False)
    status = out['paste_status'][0]
    assert status == ('skipped_cover' if skipped else 'pasted')
    assert bool(out['img'][0].any()) is (not skipped)
    if skipped:
        assert out['gt_instances_ids'][0].tolist() == [1]
    # the rule can be switched off
    out = paste(
        target,
        make_clip([LEFT], value=255),
        scale_range=(1., 1.),
        max_cover_ratio=None,
        require_equal_count=False)
    assert out['paste_status'][0] == 'pasted'


def test_equal_count_rule():
    # target object 1 is on the right in frame 0 but under the paste
    # (left half) in frame 1, so it vanishes there: counts 2, 1, 2.
    target = make_clip([box_mask(10, 30, 50, 70)])
    target['gt_masks'][1] = BitmapMasks(box_mask(10, 30, 5, 25)[None], H, W)
    source = make_clip([LEFT], value=255)
    out = paste(target, source, scale_range=(1., 1.))
    assert out['paste_status'][0] == 'skipped_count'
    assert not any(img.any() for img in out['img'])
    assert [ids.tolist() for ids in out['gt_instances_ids']] == [[1]] * 3
    out = paste(
        target, source, scale_range=(1., 1.), require_equal_count=False)
    assert out['paste_status'][0] == 'pasted'
    assert [ids.tolist() for ids in out['gt_instances_ids']] == \
        [[1, 2], [2], [1, 2]]


def test_same_seed_same_clip():
    a = paste(TARGET, SOURCE, seed=3, max_cover_ratio=None)
    b = paste(TARGET, SOURCE, seed=3, max_cover_ratio=None)
    c = paste(TARGET, SOURCE, seed=4, max_cover_ratio=None)
    for t in range(3):
        np.testing.assert_array_equal(a['img'][t], b['img'][t])
        np.testing.assert_array_equal(a['gt_masks'][t].masks,
                                      b['gt_masks'][t].masks)
    assert any((a['img'][t] != c['img'][t]).any() for t in range(3))


def test_independent_frames_vs_upstream_quirk():
    # different scale per frame: pasted objects move and resize
    kwargs = dict(max_cover_ratio=None, require_equal_count=False)
    fixed = paste(TARGET, SOURCE, 5, **kwargs)
    quirk = paste(TARGET, SOURCE, 5, upstream_cumulative=True, **kwargs)
    np.testing.assert_array_equal(fixed['gt_masks'][0].masks,
                                  quirk['gt_masks'][0].masks)
    assert any(
        (fixed['gt_masks'][t].masks != quirk['gt_masks'][t].masks).any()
        for t in (1, 2))
    # the quirk still labels exactly what it pastes (its canvas drifted)
    for t in range(3):
        _, pasted, _ = split_ids(quirk, t, 2)
        np.testing.assert_array_equal(pasted.any(0), quirk['img'][t].any(-1))
    # at scale 1 there is nothing to accumulate: identical
    a = paste(TARGET, SOURCE, 5, scale_range=(1., 1.), **kwargs)
    b = paste(
        TARGET,
        SOURCE,
        5,
        scale_range=(1., 1.),
        upstream_cumulative=True,
        **kwargs)
    for t in range(3):
        np.testing.assert_array_equal(a['gt_masks'][t].masks,
                                      b['gt_masks'][t].masks)


def test_missing_source_is_a_clear_error():
    with pytest.raises(InputError, match='TargetAwareMixDataset'):
        ImageCut2Video()(copy.deepcopy(TARGET))
    clip = copy.deepcopy(TARGET)
    clip['mix_results'] = [dict(img=np.zeros((H, W, 3), np.uint8))]
    with pytest.raises(InputError, match='ImageToClip'):
        ImageCut2Video()(clip)


def test_image_to_clip_drops_ignored_and_checks_shapes():
    results = dict(
        img=np.zeros((H, W, 3), np.uint8),
        gt_masks=BitmapMasks(np.stack([LEFT, LEFT]), H, W),
        gt_ignore_flags=np.array([False, True]))
    clip = ImageToClip(num_frames=2)(results)
    assert [len(m) for m in clip['gt_masks']] == [1, 1]
    assert clip['gt_instances_ids'][1].tolist() == [1]
    assert clip['frame_id'] == [0, 1]
    bad = dict(
        img=np.zeros((H, W, 3), np.uint8),
        gt_masks=BitmapMasks(np.zeros((1, W, H), np.uint8), W, H),
        img_path='a.jpg')
    with pytest.raises(InputError, match='a.jpg'):
        ImageToClip()(bad)


def test_rotation_moves_image_and_masks_alike():
    mask = box_mask(15, 45, 20, 60)
    img = np.repeat(mask[..., None] * 255, 3, axis=2).astype(np.uint8)
    results = dict(
        img=img,
        gt_masks=BitmapMasks(mask[None], H, W),
        gt_bboxes=np.zeros((1, 4), np.float32))
    np.random.seed(0)
    out = RandomCenterRotate(angle_range=(10., 15.))(results)
    rotated = out['gt_masks'].masks[0].astype(bool)
    bright = out['img'][..., 0] > 127
    iou = (rotated & bright).sum() / (rotated | bright).sum()
    assert iou > 0.95 and 10 <= out['rotate_angle'] <= 15
    assert not (rotated == mask.astype(bool)).all()
    np.testing.assert_array_equal(out['gt_bboxes'],
                                  mask_boxes(rotated[None]))


@pytest.mark.parametrize('num', [0, 1, 3, 7])
def test_mask_stack_ops_match_per_mask_cv2(num):
    import cv2
    rng = np.random.default_rng(num)
    masks = (rng.random((num, H, W)) > 0.7).astype(np.uint8)
    matrix = cv2.getRotationMatrix2D((30., 20.), 12., 1.)
    warped = warp_masks(masks, matrix, (H, W))
    resized = resize_masks(masks, (45, 61))
    assert warped.shape == (num, H, W) and resized.shape == (num, 45, 61)
    for m, wm, rm in zip(masks, warped, resized):
        np.testing.assert_array_equal(
            wm, cv2.warpAffine(m, matrix, (W, H), flags=cv2.INTER_NEAREST))
        np.testing.assert_array_equal(
            rm, cv2.resize(m, (61, 45), interpolation=cv2.INTER_NEAREST))
    boxes = mask_boxes(masks)
    for m, box in zip(masks, boxes):
        ys, xs = np.nonzero(m)
        assert box.tolist() == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]


def test_brightness_contrast_ranges():
    img = np.random.default_rng(0).integers(20, 230, (H, W, 3), np.uint8)
    same = RandomBrightnessContrast((1., 1.), (1., 1.))(dict(img=img))
    np.testing.assert_array_equal(same['img'], img)
    out = RandomBrightnessContrast((1.1, 1.1), None)(dict(img=img))
    np.testing.assert_allclose(out['img'], np.clip(img * 1.1, 0, 255), atol=1)
    out = RandomBrightnessContrast(None, (0.9, 0.9))(dict(img=img))
    assert out['img'].std() < img.std()


@pytest.mark.parametrize('share', [False, True])
def test_per_frame_draws(share):
    clip = make_clip([box_mask(15, 45, 20, 60)], num_frames=4)
    np.random.seed(1)
    out = TransformBroadcaster(
        transforms=[RandomCenterRotate()], share_random_params=share)(
            clip)
    angles = out['rotate_angle']
    assert (len(set(angles)) == 1) is share
    first = out['gt_masks'][0].masks
    assert all((m.masks == first).all() for m in out['gt_masks'][1:]) is share


@pytest.fixture(scope='module')
def image_set(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('images'))
    write_image_set(root, num_images=6, seed=0, size=(75, 100), objects=(1, 3))
    return root


def build_dataset(root, short_side=None):
    init_default_scope('vcl_mm')
    cfg = load_config(DATA_CFG)
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.dataset.update(
        data_root=root + '/',
        ann_file='gt_masks.json',
        data_prefix=dict(img='images/'))
    if short_side:
        set_train_scales(ds_cfg.dataset.pipeline, [(1333, short_side)])
    return DATASETS.build(ds_cfg)


def set_train_scales(pipeline, scales):
    """Set the clip-level resize of a clip pipeline config."""
    resizes = [
        a for t in pipeline for a in t.get('transforms', [])
        if a['type'] == 'RandomChoiceResize'
    ]
    assert len(resizes) == 1
    resizes[0].scales = scales


def test_config_pipeline_on_generated_images(image_set):
    dataset = build_dataset(image_set)
    np.random.seed(0)
    statuses = set()
    for idx in range(len(dataset)):
        packed = dataset[idx]
        inputs, samples = packed['inputs'], packed['data_samples']
        assert inputs.dtype == torch.uint8 and inputs.shape[:2] == (3, 3)
        assert min(inputs.shape[2:]) in (360, 480)
        for sample in samples:
            gt = sample.gt_instances
            assert gt.masks.masks.shape[1:] == tuple(inputs.shape[2:])
            assert (gt.instances_ids >= 1).all() and (gt.labels == 0).all()
            assert gt.masks.masks.any(axis=(1, 2)).all()
        statuses.add(samples[0].paste_status)
    assert 'pasted' in statuses


def test_clip_trains_one_step_of_tiny_mask2former_video(image_set):
    dataset = build_dataset(image_set, short_side=64)
    np.random.seed(0)
    torch.manual_seed(0)
    batch = pseudo_collate([dataset[0], dataset[1]])
    cfg = load_config(SMOKE_CFG)
    model = MODELS.build(cfg.model)
    assert model.track_head.num_frames == 3
    model.train()
    optim = torch.optim.SGD(model.parameters(), lr=1e-3)
    data = model.data_preprocessor(batch, training=True)
    losses = model(**data, mode='loss')
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(loss) and loss.item() > 0
    loss.backward()
    optim.step()


def test_stock_runner_trains_on_the_dataset_config(image_set, tmp_path):
    """The dataset config as is (InfiniteSampler, AspectRatioBatchSampler,
    TargetAwareMixDataset, default collate) under mmengine's Runner."""
    from mmengine.runner import Runner
    cfg = load_config(SMOKE_CFG)
    data = load_config(DATA_CFG).train_dataloader
    data.update(num_workers=0, persistent_workers=False)
    data.dataset.dataset.update(
        data_root=image_set + '/',
        ann_file='gt_masks.json',
        data_prefix=dict(img='images/'))
    set_train_scales(data.dataset.dataset.pipeline, [(1333, 64)])
    cfg.train_dataloader = data
    cfg.train_cfg.max_iters = 1
    cfg.param_scheduler = None
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator',
                'test_dataloader', 'test_cfg', 'test_evaluator'):
        cfg[key] = None
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.pop('visualization', None)
    cfg.work_dir = str(tmp_path)
    cfg.env_cfg.dist_cfg = dict(backend='gloo')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 1
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert np.isfinite(loss) and loss > 0
