"""The compiled ``evaluateVid`` of :class:`FastYTVISeval` against the
official one (mmdet's ``YTVISeval``, privately loaded) on random (video,
category) cases: score ties, crowd and ignored ground truth, sizes on the
area bounds, IoU ties and values on the thresholds, empty tracks."""
import numpy as np
import pytest
from pycocotools import mask as mask_utils

from vcl_mm.datasets.api_wrappers.mmdet_ytvis import YTVISeval
from vcl_mm.evaluation.functional import FastYTVISeval
from vcl_mm.evaluation.functional.ytvis_match import _greedy_match

AREAS = (0, 50., 128**2, 128**2 + .5, 200**2, 256**2, 300**2)


def _case(rng, D, G):
    gts = [
        dict(
            id=int(rng.integers(1, 10**6)),
            video_id=1,
            category_id=1,
            iscrowd=int(rng.random() < .25),
            avg_area=float(rng.choice(AREAS))) for _ in range(G)
    ]
    for g in gts:
        g['ignore'] = 'iscrowd' in g and g['iscrowd']
    dts = [
        dict(
            id=k + 1,
            video_id=1,
            category_id=1,
            iscrowd=0,
            score=float(rng.choice([.9, .5, .5, .3,
                                    rng.random()])),
            avg_area=float(rng.choice(AREAS))) for k in range(D)
    ]
    # IoUs on and around the thresholds, ties, zeros
    vals = np.r_[0., 0., .5, .55, .75, .95, 1., .6 + 1e-12, .49999]
    ious = rng.choice(vals, (D, G))
    mix = rng.random((D, G)) < .3
    ious[mix] = rng.random(mix.sum())
    return gts, dts, ious


def _setup(ev, gts, dts, ious, maxDet):
    ev._gts = {(1, 1): gts}
    ev._dts = {(1, 1): dts}
    order = np.argsort([-d['score'] for d in dts], kind='mergesort')
    if len(gts) == 0 and len(dts) == 0:
        ev.ious = {(1, 1): []}
    else:
        ev.ious = {(1, 1): ious[order][:maxDet]}


def _equal(a, b):
    if a is None or b is None:
        return a is None and b is None
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], np.ndarray):
            assert a[k].dtype == b[k].dtype, k
            assert a[k].shape == b[k].shape, k
            assert np.array_equal(a[k], b[k]), k
        else:
            assert a[k] == b[k], k
    return True


@pytest.mark.parametrize('seed', range(4))
def test_evaluate_vid_equals_the_official(seed):
    rng = np.random.default_rng(seed)
    ours, official = FastYTVISeval(), YTVISeval(iouType='segm')
    for ev in (ours, official):
        ev.params.useCats = 1
        ev.params.catIds = [1]
    n = 0
    for _ in range(150):
        D, G = int(rng.integers(0, 14)), int(rng.integers(0, 6))
        maxDet = int(rng.choice([1, 10, 100]))
        gts, dts, ious = _case(rng, D, G)
        for ev in (ours, official):
            _setup(ev, gts, dts, ious, maxDet)
        for aRng in ours.params.areaRng:
            n += _equal(
                ours.evaluateVid(1, 1, aRng, maxDet),
                official.evaluateVid(1, 1, aRng, maxDet))
    assert n > 400  # most cases have tracks


def test_compiled_kernel_equals_its_python_source():
    py = getattr(_greedy_match, 'py_func', None)
    if py is None:
        pytest.skip('numba is not installed')
    rng = np.random.default_rng(7)
    thrs = np.linspace(.5, .95, 10)
    for _ in range(50):
        D, G = int(rng.integers(1, 9)), int(rng.integers(1, 5))
        ious = rng.choice([0., .5, .7, .95, 1.], (D, G))
        ig = np.sort(rng.integers(0, 2, G)).astype(np.int64)
        crowd = rng.integers(0, 2, G).astype(np.int64)
        ids = np.arange(1., D + 1), np.arange(11., G + 11)
        outs = []
        for f in (_greedy_match, py):
            arrs = np.zeros((10, D)), np.zeros((10, G)), np.zeros((10, D))
            f(ious, ig, crowd, thrs, *ids, *arrs)
            outs.append(arrs)
        for a, b in zip(*outs):
            assert np.array_equal(a, b)


def test_long_string_stats_in_two_threads_equal_one_pass():
    from vcl_mm.datasets.api_wrappers import masks as M
    from vcl_mm.datasets.api_wrappers import rle_json
    rng = np.random.default_rng(5)
    rles = [M.encode(rng.random((60, 90)) < p) for p in (.1, .5, .9)]
    counts = [rles[k % 3]['counts'] for k in range(6000)] + ['abc~']
    assert sum(map(len, counts)) > 1 << 22  # the threaded path
    totals, areas, strs = rle_json.rle_string_stats(counts)
    assert totals.tolist() == M.rle_run_totals(counts).tolist()
    want = [int(mask_utils.area(r)) for r in rles]
    assert areas[:-1].tolist() == [want[k % 3] for k in range(6000)]
    assert strs[:3] == [r['counts'].encode() for r in rles]


def test_ground_truth_error_comes_first_when_loading_both(tmp_path):
    from vcl_mm.evaluation.functional import evaluate_ytvis
    from vcl_mm.utils.errors import InputError
    with pytest.raises(InputError, match='ground-truth JSON not found'):
        evaluate_ytvis(str(tmp_path / 'gt.json'), str(tmp_path / 'r.json'))
