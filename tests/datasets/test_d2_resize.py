"""Training resizes equal detectron2's: its output-size rules, PIL bilinear
image pixels and PIL nearest mask pixels, at the video stage's short sides
and across the image stage's LSJ scales (0.1x-2.0x), built from the recipe
configs themselves.
"""
import copy
import glob
import os.path as osp

import numpy as np
import pytest
from mmdet.registry import TRANSFORMS
from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks, PolygonMasks
from mmengine.registry import init_default_scope
from PIL import Image

from vcl_mm.datasets.transforms import CutLERCopyPaste
from vcl_mm.datasets.transforms.d2_resize import (fit_size, resize_image,
                                                  shortest_edge_size)
from vcl_mm.testing.runners import REPO_ROOT
from vcl_mm.utils.launch import load_config

VIDEO_DATA = osp.join(REPO_ROOT, 'configs', '_base_', 'datasets',
                      'imagecut2video.py')
IMAGE_DATA = osp.join(REPO_ROOT, 'configs', '_base_', 'datasets',
                      'maskcut_lsj_copypaste.py')


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('vcl_mm')


def textured(h, w, seed=0):
    """uint8 (h, w, 3) with fine detail (aliasing shows when shrinking)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    stripes = 127.5 + 127.5 * np.sin(xx * 1.3 + yy * 0.7)
    img = np.stack([stripes, rng.uniform(0, 255, (h, w)), stripes[::-1]], -1)
    return img.astype(np.uint8)


def blobs(h, w, n=3, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    masks = []
    for _ in range(n):
        cy, cx = rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w
        ry, rx = rng.uniform(0.1, 0.3) * h, rng.uniform(0.1, 0.3) * w
        masks.append(((yy - cy) / ry)**2 + ((xx - cx) / rx)**2 <= 1)
    return np.stack(masks).astype(np.uint8)


def results_of(img, masks):
    h, w = img.shape[:2]
    return dict(
        img=img.copy(),
        img_shape=(h, w),
        ori_shape=(h, w),
        gt_masks=BitmapMasks(masks.copy(), h, w),
        gt_bboxes=BitmapMasks(masks, h, w).get_bboxes(HorizontalBoxes),
        gt_bboxes_labels=np.zeros(len(masks), np.int64),
        gt_ignore_flags=np.zeros(len(masks), bool))


def pil_image(img, size_hw):
    h, w = size_hw
    return np.asarray(Image.fromarray(img).resize((w, h), Image.BILINEAR))


def pil_masks(masks, size_hw):
    h, w = size_hw
    return np.stack([
        np.asarray(Image.fromarray(m).resize((w, h), Image.NEAREST))
        for m in masks
    ])


def assert_like_detectron2(out, img, masks, size_hw):
    assert out['img'].shape[:2] == size_hw
    assert tuple(out['img_shape'][:2]) == size_hw
    np.testing.assert_array_equal(out['img'], pil_image(img, size_hw))
    assert out['gt_masks'].masks.shape[1:] == size_hw
    np.testing.assert_array_equal(out['gt_masks'].masks,
                                  pil_masks(masks, size_hw))


# ------------------------------------------------------------ size rules
@pytest.mark.parametrize('hw, short, expected', [
    ((480, 854), 360, (360, 641)),  # int(640.5 + 0.5); round() gives 640
    ((375, 500), 360, (360, 480)),
    ((500, 375), 480, (640, 480)),
    ((100, 1000), 480, (133, 1333)),  # long side capped at 1333
    ((333, 500), 96, (96, 144)),  # 144.14
])
def test_shortest_edge_rule(hw, short, expected):
    assert shortest_edge_size(*hw, short, 1333) == expected


def test_fit_rule_rounds_half_to_even():
    # factor min(5/3, 6/4) = 1.5: 3 x 1.5 = 4.5 -> 4 (np.round), 4 x 1.5 = 6
    assert fit_size(3, 4, (5, 6), 1.0) == (4, 6)
    # LSJ box 896 at 0.1: 375 x 500 -> factor 89.6 / 500
    assert fit_size(375, 500, (896, 896), 0.1) == (67, 90)
    assert fit_size(500, 375, (896, 896), 2.0) == (1792, 1344)


# ------------------------------------------------------- the video stage
@pytest.mark.parametrize('hw', [(375, 500), (480, 854), (600, 450)])
@pytest.mark.parametrize('scale_idx', [0, 1])
def test_video_recipe_resize_is_detectron2s(hw, scale_idx):
    """The recipe's clip-level resize step (short side 360 / 480, long side
    <= 1333) gives ResizeShortestEdge's size and PIL's pixels."""
    step = copy.deepcopy(
        load_config(VIDEO_DATA).clip_level_step['transforms'][0])
    scales = step['scales']
    step['scales'] = [scales[scale_idx]]
    resize = TRANSFORMS.build(step)
    img, masks = textured(*hw), blobs(*hw)
    out = resize(results_of(img, masks))
    size = shortest_edge_size(*hw, min(scales[scale_idx]),
                              max(scales[scale_idx]))
    assert_like_detectron2(out, img, masks, size)
    sx, sy = size[1] / hw[1], size[0] / hw[0]
    np.testing.assert_allclose(out['scale_factor'], (sx, sy))


# ------------------------------------------------------- the image stage
@pytest.mark.parametrize('ratio', [0.1, 0.13, 0.37, 1.0, 1.61, 2.0])
@pytest.mark.parametrize('hw', [(375, 500), (512, 341)])
def test_image_recipe_lsj_resize_is_detectron2s(ratio, hw):
    """The recipe's LSJ resize (ResizeScale, 0.1-2.0 of the 896 canvas)
    gives detectron2's size and PIL's pixels at fixed scales, the 0.1x
    aliasing end included."""
    cfg = load_config(IMAGE_DATA)
    step = next(
        t for t in cfg.load_pipeline if 'ratio_range' in t)
    step = dict(copy.deepcopy(step), ratio_range=(ratio, ratio))
    img, masks = textured(*hw, seed=1), blobs(*hw, seed=1)
    out = TRANSFORMS.build(step)(results_of(img, masks))
    size = fit_size(*hw, tuple(cfg.image_size)[::-1], ratio)
    assert_like_detectron2(out, img, masks, size)


def test_image_recipe_draws_its_scale_as_detectron2():
    """One uniform draw of the scale in ratio_range; the float box is kept
    (mmcv's RandomResize truncates it to integers first)."""
    cfg = load_config(IMAGE_DATA)
    step = next(t for t in cfg.load_pipeline if 'ratio_range' in t)
    resize = TRANSFORMS.build(copy.deepcopy(step))
    hw = (375, 500)
    for seed in range(20):
        np.random.seed(seed)
        ratio = np.random.uniform(*step['ratio_range'])
        np.random.seed(seed)
        out = resize(results_of(textured(*hw), blobs(*hw)))
        assert out['img'].shape[:2] == fit_size(*hw, (896, 896), ratio)


def test_image_recipe_loads_uint8():
    """detectron2 resizes the uint8 image it reads (the PIL path)."""
    load = load_config(IMAGE_DATA).load_pipeline[0]
    assert not load.get('to_float32', False)


# ------------------------------------------------------ other containers
def test_float_images_take_torch_bilinear():
    """Non-uint8 images: F.interpolate bilinear (detectron2's float path);
    when enlarging it agrees with PIL's bilinear up to PIL's fixed-point
    rounding (1 grey level)."""
    img = textured(30, 40)
    out = resize_image(img.astype(np.float32), (75, 100))
    assert out.dtype == np.float32
    assert np.abs(out - pil_image(img, (75, 100))).max() <= 1 + 1e-3
    gray = resize_image(img[..., 0], (60, 80))
    np.testing.assert_array_equal(gray, pil_image(img[..., 0], (60, 80)))


def test_polygons_are_scaled_like_coordinates():
    resize = TRANSFORMS.build(
        dict(type='D2Resize', scale=(1333, 200), keep_ratio=True))
    polys = PolygonMasks([[np.array([0., 0., 40., 0., 40., 30.])]], 100, 80)
    out = resize(dict(img=textured(100, 80), gt_masks=polys))
    assert out['img'].shape[:2] == (250, 200)
    np.testing.assert_allclose(out['gt_masks'].masks[0][0],
                               [0, 0, 100, 0, 100, 75])


def test_interpolation_is_not_configurable():
    with pytest.raises(ValueError, match='backend'):
        TRANSFORMS.build(dict(type='D2Resize', scale=(10, 10), backend='cv2'))


def test_every_training_config_resizes_like_detectron2():
    """No recipe, ablation or toy version of them trains with mmdet's cv2
    resize (a child config that re-spells the step must keep D2Resize)."""
    paths = [
        p for pattern in ('videocutler/*.py', 'videocutler/ablations/*.py',
                          'cutler/*.py', 'toy/*.py')
        for p in sorted(glob.glob(osp.join(REPO_ROOT, 'configs', pattern)))
        if not osp.basename(p).startswith(('eval_', 'maskcut_',
                                           'video_smoke_generated'))
    ]
    for path in paths:
        dumped = str(load_config(path).train_dataloader)
        assert 'Resize' in dumped, path
        for bad in ("'type': 'RandomResize'", "'type': 'Resize'"):
            assert bad not in dumped, (path, bad)
        if 'RandomChoiceResize' in dumped:
            assert "'resize_type': 'D2Resize'" in dumped, path
    assert len(paths) >= 15


def test_copy_paste_pixels_do_not_depend_on_the_image_dtype():
    """The image stage now loads uint8; CutLER's paste resizes in float and
    floors either way, so its pixels are those of the float32 pipeline."""
    h, w = 64, 80
    tgt = results_of(textured(h, w), blobs(h, w, 1))
    src = results_of(textured(h, w, seed=3), blobs(h, w, 2, seed=3))
    outs = []
    for dtype in (np.uint8, np.float32):
        t, s = copy.deepcopy(tgt), copy.deepcopy(src)
        t['img'] = t['img'].astype(dtype)
        s['img'] = s['img'].astype(dtype)
        t['mix_results'] = [s]
        np.random.seed(0)
        outs.append(CutLERCopyPaste()(t)['img'])
    assert outs[0].dtype == np.uint8
    np.testing.assert_array_equal(outs[0], outs[1])


def test_polygon_variant_fills_holes_and_is_a_config_switch():
    """Upstream's image stage reads polygons: the variant config rounds the
    pseudo-masks through their outer contours (a hole is filled; the
    recipe keeps it)."""
    donut = np.zeros((1, 40, 40), np.uint8)
    donut[0, 5:35, 5:35] = 1
    donut[0, 15:25, 15:25] = 0
    res = TRANSFORMS.build(dict(type='MasksAsPolygons'))(
        results_of(textured(40, 40), donut))
    filled = res['gt_masks'].masks[0]
    assert filled[15:25, 15:25].all() and filled[:5].sum() == 0
    assert abs(int(filled.sum()) - 30 * 30) <= 4 * 30
    base = load_config(osp.join(
        REPO_ROOT, 'configs', 'cutler',
        'cutler_mask2former_r50_8xb2-lsj-160k_imagenet.py'))
    variant = load_config(osp.join(
        REPO_ROOT, 'configs', 'cutler',
        'cutler_mask2former_r50_8xb2-lsj-160k_imagenet_polygon.py'))
    types = [t['type'] for t in
             variant.train_dataloader.dataset.dataset.pipeline]
    assert 'MasksAsPolygons' not in str(base.train_dataloader)
    assert types.index('MasksAsPolygons') == \
        types.index('FilterAnnotations') - 1


def test_repeated_frames_reuse_the_resize_exactly():
    """Equal frames (a clip before its per-frame crop) reuse one PIL call;
    a different frame or size is resized anew."""
    resize = TRANSFORMS.build(
        dict(type='D2Resize', scale=(1333, 60), keep_ratio=True))
    img, masks = textured(50, 70), blobs(50, 70)
    first = resize(results_of(img, masks))
    again = resize(results_of(img, masks))
    np.testing.assert_array_equal(first['img'], again['img'])
    np.testing.assert_array_equal(first['gt_masks'].masks,
                                  again['gt_masks'].masks)
    other_img, other_masks = textured(50, 70, seed=5), blobs(50, 70, seed=5)
    other = resize(results_of(other_img, other_masks))
    assert_like_detectron2(other, other_img, other_masks, (60, 84))
    resize.scale = (1333, 40)
    smaller = resize(results_of(img, masks))
    assert_like_detectron2(smaller, img, masks, (40, 56))
