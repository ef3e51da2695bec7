"""Our YouTube-VIS evaluation against a real peer: mmdet's own ``YTVIS`` +
``YTVISeval`` (the official YTVOSeval copy), imported and run the ordinary
way on the same data.

The peer is configured or patched minimally, and only where it cannot run
our case as shipped: ``np.float`` (removed in numpy 1.24, used by its
``accumulate``) is put back for the test; class-agnostic evaluation is its
own ``params.useCats = 0``; ground truth without ``areas`` (the official
code needs them for ``avg_area``) is given the per-frame mask areas, which
is what our loader uses then.
"""
import copy

import numpy as np
import pytest
from evalhelpers import box, make_gt, make_res, mmdet_ytviseval
from pycocotools import mask as mask_utils

from vcl_mm.evaluation.functional import STAT_NAMES, evaluate_ytvis


def _same(ours, peer):
    stats, precision, recall = peer
    assert np.array_equal([ours[k] for k in STAT_NAMES], stats)
    assert np.array_equal(ours['precision'], precision)
    assert np.array_equal(ours['recall'], recall)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_random_cases_identical_to_mmdet_ytviseval(bench, seed,
                                                   monkeypatch):
    """Moving ellipses, occlusions, crowd ground truth, S/M/L sizes, score
    ties, duplicates, false positives; uncompressed-RLE ground truth as in
    the official files."""
    gt, res = bench.make_ytvis_case(
        seed, num_videos=10, frames=(3, 8), size=(120, 200), preds=8)
    for agnostic in (True, False):
        ours = evaluate_ytvis(gt, res, class_agnostic=agnostic)
        _same(ours, mmdet_ytviseval(gt, res, not agnostic, monkeypatch))


def test_hand_cases_identical_to_mmdet_ytviseval(monkeypatch):
    """Equal IoU to two ground truths, crowd absorbing predictions, a
    video without ground truth, the inclusive 128^2 bucket bound."""
    h, w = 300, 300
    gA = [box(h, w, 0, 4, 0, 4)] * 2
    gB = [box(h, w, 0, 4, 4, 8)] * 2
    d1 = [box(h, w, 0, 4, 0, 8)] * 2
    d2 = [box(h, w, 0, 4, 0, 3)] * 2
    sq = [box(h, w, 100, 228, 100, 228)] * 2  # 128^2: small and medium
    crowd = [box(h, w, 200, 300, 0, 300)] * 2
    gt = make_gt([(1, h, w, 2, [dict(masks=gA), dict(masks=gB)]),
                  (2, h, w, 2, [dict(masks=sq),
                                dict(masks=crowd, iscrowd=1)]),
                  (3, h, w, 2, [])])
    res = [
        make_res(1, d1, .9),
        make_res(1, d2, .8),
        make_res(2, sq, .5),
        make_res(2, crowd, .7),
        make_res(2, crowd, .7),
        make_res(3, d1, .6)
    ]
    for agnostic in (True, False):
        _same(
            evaluate_ytvis(gt, res, class_agnostic=agnostic),
            mmdet_ytviseval(gt, res, not agnostic, monkeypatch))


def test_ground_truth_without_areas_uses_mask_areas(bench, monkeypatch):
    gt, res = bench.make_ytvis_case(
        3, num_videos=6, frames=(3, 6), size=(120, 200), preds=6)
    ours = evaluate_ytvis(
        dict(
            gt,
            annotations=[{k: v
                          for k, v in a.items() if k != 'areas'}
                         for a in gt['annotations']]), res)
    peer_gt = copy.deepcopy(gt)
    for a in peer_gt['annotations']:  # the peer needs areas: mask areas
        a['areas'] = [
            None if s is None else float(
                mask_utils.area(mask_utils.frPyObjects(s, *s['size'])))
            for s in a['segmentations']
        ]
    _same(ours, mmdet_ytviseval(peer_gt, res, False, monkeypatch))
