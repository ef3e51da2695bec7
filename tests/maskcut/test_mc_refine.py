"""Refinement: upsampling with subtraction, CRF, resizing back."""
import numpy as np
from mc_helpers import colour_scene

from vcl_mm.maskcut.refine import (CRF_DEFAULTS, crf_refine, refine_masks,
                                   resize_mask, split_crf,
                                   upsample_patch_masks)


def test_upsample_is_nearest_and_subtracts_earlier_masks():
    a = np.zeros((4, 4), bool)
    a[0:2, 0:2] = True
    b = np.zeros((4, 4), bool)
    b[1:3, 1:3] = True  # overlaps a in patch (1, 1)
    up = upsample_patch_masks([a, b], (16, 16))
    assert up.shape == (2, 16, 16)
    assert np.array_equal(up[0], np.kron(a, np.ones((4, 4), bool)))
    assert np.array_equal(up[1], np.kron(b & ~a, np.ones((4, 4), bool)))
    assert not (up[0] & up[1]).any()
    assert upsample_patch_masks([], (8, 8)).shape == (0, 8, 8)


def test_crf_snaps_a_blocky_mask_to_the_object():
    rng = np.random.default_rng(0)
    img, gt = colour_scene(rng, 96, 96, num_objects=1)
    gt = gt[0]
    # the patch-level mask: 8x8 blocks more than half inside the object
    blocks = gt.reshape(12, 8, 12, 8).mean(axis=(1, 3)) > 0.5
    coarse = np.kron(blocks, np.ones((8, 8), bool))
    img.flags.writeable = False  # e.g. np.asarray of a PIL image
    refined = crf_refine(img, coarse, **split_crf(CRF_DEFAULTS)[2])

    def iou(m):
        return (m & gt).sum() / (m | gt).sum()

    assert iou(refined) > iou(coarse)
    assert iou(refined) > 0.9


def test_crf_drops_masks_it_changes_too_much():
    rng = np.random.default_rng(1)
    img, gt = colour_scene(rng, 64, 64, num_objects=1)
    speck = np.zeros((8, 8), bool)
    corner = np.argwhere(~gt.reshape(8, 8, 8, 8).any(axis=(1, 3)))[0]
    speck[tuple(corner)] = True  # one patch of plain background
    assert refine_masks(img, [speck]) == []
    # without the CRF the upsampled mask is kept as it is
    kept = refine_masks(img, [speck], crf=None)
    assert len(kept) == 1 and kept[0].sum() == 64


def test_resize_mask_keeps_width_and_height_apart():
    m = np.zeros((40, 40), bool)
    m[10:30, 5:20] = True
    out = resize_mask(m, width=100, height=60)
    assert out.shape == (60, 100)
    ys, xs = np.nonzero(out)
    assert 12 <= xs.min() <= 13 and 48 <= xs.max() <= 50
    assert 14 <= ys.min() <= 15 and 44 <= ys.max() <= 45
    assert not resize_mask(np.zeros((8, 8), bool), 5, 7).any()
    # a mask too thin for the target keeps its core: threshold at half of
    # the resized maximum, not at 128
    thin = np.zeros((64, 64), bool)
    thin[:, 30:31] = True
    small = resize_mask(thin, 16, 16)
    assert small.any()


def test_one_dense_mask_iou_with_the_callers_empty_conventions():
    from pycocotools import mask as mask_utils

    from vcl_mm.datasets.api_wrappers.masks import encode, mask_iou
    rng = np.random.default_rng(3)
    a, b = rng.random((2, 20, 30)) < 0.4
    want = mask_utils.iou([encode(a)], [encode(b)], [0])[0, 0]
    assert np.isclose(mask_iou(a, b), want)
    empty = np.zeros((5, 5), bool)
    assert mask_iou(empty, empty) == 0.  # MaskCut's rules (ncut)
    assert np.isnan(mask_iou(empty, empty, empty=float('nan')))  # CRF check
    assert mask_iou(a, np.zeros_like(a), empty=float('nan')) == 0.


def test_crf_defaults_are_one_table():
    """A partial maskcut.crf (e.g. only the backend) takes the rest from
    CRF_DEFAULTS; the kernels have no defaults of their own."""
    import inspect

    from vcl_mm.maskcut.crf_torch import dense_crf_torch
    backend, min_iou, params = split_crf(dict(backend='torch'))
    assert backend == 'torch' and min_iou == CRF_DEFAULTS['min_iou']
    assert params == {
        k: v
        for k, v in CRF_DEFAULTS.items() if k not in ('backend', 'min_iou')
    }
    for kernel in (crf_refine, dense_crf_torch):
        signature = inspect.signature(kernel).parameters
        assert all(signature[k].default is inspect.Parameter.empty
                   for k in params)
