"""The torch dense CRF against pydensecrf (the reference), on MaskCut's own
unaries: generated scenes and real DAVIS frames."""
import numpy as np
import pytest
import torch
from scipy import ndimage

from vcl_mm.datasets.api_wrappers.masks import mask_iou
from vcl_mm.maskcut.crf_torch import dense_crf_torch, fill_holes_torch
from vcl_mm.maskcut.permutohedral import PermutohedralLattice
from vcl_mm.maskcut.refine import (CRF_DEFAULTS, dense_crf_batch, fill_holes,
                                   refine_masks, split_crf)
from vcl_mm.testing.crf_cases import crf_cases, davis_frames, generated_images
from vcl_mm.utils import InputError

TORCH_CRF = dict(CRF_DEFAULTS, backend='torch')
#: the kernels' parameters, from the one table
PARAMS = split_crf(CRF_DEFAULTS)[2]


def _agreement(cases):
    """Mean IoU of the refined masks and the share of equal drop
    decisions, torch vs pydensecrf."""
    images = [img for img, _ in cases]
    masks = [m for _, m in cases]
    ref = dense_crf_batch(images, masks, CRF_DEFAULTS)
    out = dense_crf_batch(images, masks, TORCH_CRF)
    ious, same = [], []
    for (r, keep_r), (o, keep_o) in zip(ref, out):
        assert r.shape == o.shape and o.dtype == bool
        ious += [mask_iou(a, b, empty=1.) for a, b in zip(r, o)]
        same += list(keep_r == keep_o)
    assert len(ious) >= 4, 'too few masks to compare'
    return float(np.mean(ious)), float(np.mean(same))


def test_equals_pydensecrf_on_generated_scenes():
    cases = crf_cases(generated_images(4, (96, 128), seed=1), fixed_size=128)
    mean_iou, same = _agreement(cases)
    assert mean_iou >= 0.99 and same >= 0.99


def test_equals_pydensecrf_on_real_frames(shared_data):
    frames = davis_frames(str(shared_data / 'davis2016-mini'), 1)
    mean_iou, same = _agreement(crf_cases(frames, fixed_size=192))
    assert mean_iou >= 0.99 and same >= 0.99


def test_a_batch_gives_each_image_its_own_result():
    cases = crf_cases(generated_images(3, (64, 64), seed=2), fixed_size=64)
    images = [img for img, _ in cases]
    masks = [m for _, m in cases]
    masks[1] = masks[1][:0]  # an image without masks
    batched = dense_crf_torch(images, masks, images_per_lattice=3, **PARAMS)
    assert all(
        torch.equal(a, b)
        for a, b in zip(batched, dense_crf_torch(images, masks, **PARAMS)))
    for img, m, got in zip(images, masks, batched):
        alone = dense_crf_torch([img], [m], **PARAMS)[0]
        assert got.shape == m.shape and torch.equal(got, alone)


def test_sparse_and_gather_filters_agree():
    rng = np.random.default_rng(0)
    feats = torch.from_numpy(rng.normal(size=(400, 5)).astype(np.float32))
    groups = torch.from_numpy(rng.integers(0, 3, 400))
    values = torch.rand(400, 3)
    lattice = PermutohedralLattice(feats * 2, groups)
    assert lattice.sparse  # the default on the CPU
    sparse = lattice.filter(values)
    gathered = PermutohedralLattice(
        feats * 2, groups, sparse=False).filter(values)
    assert torch.allclose(sparse, gathered, rtol=1e-5, atol=1e-6)
    # points of other sets do not contribute
    alone = PermutohedralLattice(feats[groups == 0] * 2).filter(
        values[groups == 0])
    assert torch.allclose(sparse[groups == 0], alone, rtol=1e-5, atol=1e-6)


def test_soft_masks_and_the_public_refinement():
    cases = crf_cases(generated_images(1, (64, 96), seed=3), fixed_size=96)
    img, masks = cases[0]
    assert len(masks)
    soft = masks.astype(np.float32) * 0.8 + 0.1
    (ref, keep_r), = dense_crf_batch([img], [soft], CRF_DEFAULTS)
    (out, keep_o), = dense_crf_batch([img], [soft], TORCH_CRF)
    assert np.array_equal(keep_r, keep_o)
    assert np.mean([mask_iou(a, b, 1.) for a, b in zip(ref, out)]) >= 0.99
    patch = masks[0].reshape(12, 8, 12, 8).any(axis=(1, 3))
    want = refine_masks(img, [patch])
    got = refine_masks(img, [patch], TORCH_CRF, device='cpu')
    assert len(got) == len(want)
    for a, b in zip(want, got):
        assert mask_iou(a, b) >= 0.99


def test_bad_input_is_named():
    img = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(InputError, match="backend='dense'"):
        dense_crf_batch([img], [np.zeros((1, 8, 8), bool)],
                        dict(CRF_DEFAULTS, backend='dense'))
    with pytest.raises(InputError, match='1 images but 2'):
        dense_crf_batch([img], [np.zeros((1, 8, 8), bool)] * 2, TORCH_CRF)
    with pytest.raises(ValueError, match='do not match'):
        dense_crf_torch([img], [np.zeros((1, 8, 9), bool)], **PARAMS)
    with pytest.raises(InputError, match=r'CRF input 0: .*\(1, 8, 9\)'):
        dense_crf_batch([img], [np.zeros((1, 8, 9), bool)], TORCH_CRF)
    with pytest.raises(InputError, match='uint8'):
        dense_crf_batch([img.astype(float)], [np.zeros((1, 8, 8), bool)])
    (out, keep), = dense_crf_batch([img], [np.zeros((0, 8, 8), bool)],
                                   TORCH_CRF)
    assert out.shape == (0, 8, 8) and keep.shape == (0, )


def test_device_hole_filling_equals_scipy():
    rng = np.random.default_rng(4)
    for _ in range(30):
        h, w = rng.integers(1, 30, 2)
        masks = rng.random((3, h, w)) < rng.uniform(0.2, 0.8)
        want = np.stack([ndimage.binary_fill_holes(m) for m in masks])
        got = fill_holes_torch(torch.from_numpy(masks))
        assert np.array_equal(got.numpy(), want)
    ring = np.zeros((1, 9, 9), bool)
    ring[0, 2:7, 2:7] = True
    ring[0, 3:6, 3:6] = False
    assert fill_holes_torch(torch.from_numpy(ring)).numpy()[0, 2:7, 2:7].all()
    assert fill_holes_torch(torch.zeros(0, 4, 4,
                                        dtype=torch.bool)).shape == (0, 4, 4)
    # the batched device path of the CRF gives scipy's results
    labels = [torch.from_numpy(rng.random((k, 12, 10)) < 0.6) for k in (2, 0)]
    labels.append(torch.from_numpy(rng.random((1, 7, 9)) < 0.6))
    for a, b in zip(fill_holes(labels), fill_holes(labels, on_device=True)):
        assert len(a) == len(b)
        assert all(np.array_equal(x, y) for x, y in zip(a, b))
