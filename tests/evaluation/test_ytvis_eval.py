"""YouTube-VIS evaluation core: hand-computed rules and exactness against
the official code (mmdet's YTVISeval)."""
import numpy as np
import pytest
from evalhelpers import box, make_gt, make_res, mmdet_ytviseval, track

from pycocotools import mask as mask_utils

from vcl_mm.datasets.api_wrappers import masks as M
from vcl_mm.evaluation.functional import rle_iou
from vcl_mm.evaluation.functional.ytvis_eval import STAT_NAMES, evaluate_ytvis
from vcl_mm.utils import InputError

H, W = 20, 20


def _t(masks):
    """(per-frame RLEs, (T,) areas) of a track."""
    rles = track(masks)
    return rles, M.track_areas([rles])[0]


def video_iou(dts, gts, min_iou=None):
    return rle_iou.video_iou([d[0] for d in dts], [g[0] for g in gts],
                             np.stack([d[1] for d in dts]),
                             np.stack([g[1] for g in gts]), min_iou)


def test_video_iou_absent_and_empty_frames():
    # frame 0: only gt (4 px); frame 1: both (d 4 px, g 4 px, overlap 2);
    # frame 2: only d (6 px); frame 3: both absent; frame 4: both empty
    # masks (area 0) -> contribute nothing.
    g = _t([
        box(H, W, 0, 2, 0, 2),
        box(H, W, 5, 7, 5, 7), None, None,
        np.zeros((H, W), bool)
    ])
    d = _t([
        None,
        box(H, W, 5, 7, 6, 8),
        box(H, W, 0, 2, 0, 3), None,
        np.zeros((H, W), bool)
    ])
    inter = 2
    union = 4 + (4 + 4 - 2) + 6
    assert video_iou([d], [g])[0, 0] == inter / union
    # pruning at 0.5 keeps nothing here (bound 2/14 < .5): reported as 0
    assert video_iou([d], [g], min_iou=0.5)[0, 0] == 0
    # identical tracks: exactly 1; disjoint: 0
    assert video_iou([g], [g])[0, 0] == 1.0
    far = _t([box(H, W, 15, 18, 15, 18)] * 2 + [None] * 3)
    assert video_iou([far], [g])[0, 0] == 0.0


def test_video_iou_matches_per_frame_definition():
    rng = np.random.default_rng(3)
    for _ in range(5):
        T = 6
        gts, dts = [], []
        for k in range(3):
            gts.append(
                _t([
                    None if rng.random() < .2 else box(
                        H, W, *sorted(rng.integers(0, H, 2)),
                        *sorted(rng.integers(0, W, 2))) for _ in range(T)
                ]))
            dts.append(
                _t([
                    None if rng.random() < .2 else box(
                        H, W, *sorted(rng.integers(0, H, 2)),
                        *sorted(rng.integers(0, W, 2))) for _ in range(T)
                ]))
        ours = video_iou(dts, gts)
        for i, d in enumerate(dts):
            for j, g in enumerate(gts):
                inter = union = 0.
                for a, b in zip(d[0], g[0]):
                    ma = np.zeros((H, W), bool) if a is None else \
                        mask_utils.decode(a).astype(bool)
                    mb = np.zeros((H, W), bool) if b is None else \
                        mask_utils.decode(b).astype(bool)
                    inter += (ma & mb).sum()
                    union += (ma | mb).sum()
                want = inter / union if union else 0.
                assert ours[i, j] == want


def test_video_iou_per_frame_fallback_is_identical(monkeypatch):
    rng = np.random.default_rng(0)
    dts = [
        _t([box(H, W, 0, int(rng.integers(3, 20)), 0, 10)] * 3)
        for _ in range(4)
    ]
    gts = [
        _t([box(H, W, 2, 12, 0, int(rng.integers(3, 20)))] * 3)
        for _ in range(2)
    ]
    fast = video_iou(dts, gts, 0.5)
    monkeypatch.setattr(rle_iou, '_nb', None)  # pycocotools path
    assert np.array_equal(video_iou(dts, gts, 0.5), fast)
    monkeypatch.setattr(rle_iou, '_TAGGING_OK', [False])  # per frame
    assert np.array_equal(video_iou(dts, gts, 0.5), fast)


def _one_video(gt_masks, preds, T=2, crowd=()):
    anns = [
        dict(masks=m, iscrowd=int(k in crowd)) for k, m in enumerate(gt_masks)
    ]
    gt = make_gt([(1, H, W, T, anns)])
    res = [make_res(1, m, s) for m, s in preds]
    return gt, res


def test_perfect_predictions_give_one():
    """(One TP alone has precision 1 / (1 + eps) in the official code.)"""
    g1 = [box(H, W, 0, 10, 0, 10)] * 2
    g2 = [box(H, W, 10, 20, 10, 20), None]
    gt, res = _one_video([g1, g2], [(g1, .9), (g2, .8)])
    stats = evaluate_ytvis(gt, res)
    for k in ('AP', 'AP50', 'AP75', 'APs', 'AR10', 'AR100', 'ARs'):
        assert stats[k] == 1.0, k
    assert stats['AR1'] == 0.5  # one detection for two objects
    # no medium/large ground truth: undefined (-1)
    for k in ('APm', 'APl', 'ARm', 'ARl'):
        assert stats[k] == -1, k


def test_max_dets_cutoff():
    g = [box(H, W, 0, 10, 0, 10)] * 2
    wrong = [box(H, W, 12, 20, 12, 20)] * 2
    gt, res = _one_video([g], [(wrong, .9), (g, .5)])
    stats = evaluate_ytvis(gt, res)
    assert stats['AR1'] == 0.0  # only the wrong top-1 prediction counts
    assert stats['AR10'] == 1.0 and stats['AR100'] == 1.0
    # AP: the TP comes second -> precision 1/2 at every recall point
    assert stats['AP'] == pytest.approx(0.5, abs=1e-12)


def test_duplicate_prediction_is_a_false_positive():
    g = [box(H, W, 0, 10, 0, 10)] * 2
    gt, res = _one_video([g], [(g, .9), (g, .8)])
    stats = evaluate_ytvis(gt, res)
    assert stats['AP'] == pytest.approx(1.0)  # the FP ranks after the only TP
    gt, res = _one_video([g], [(g, .8), (g, .9)])
    assert evaluate_ytvis(gt, res)['AP'] == pytest.approx(
        1.0)  # either copy is the TP


def test_score_ties_are_stable_like_the_official_mergesort(monkeypatch):
    g = [box(H, W, 0, 10, 0, 10)] * 2
    wrong = [box(H, W, 12, 20, 12, 20)] * 2
    for order in ([(wrong, .5), (g, .5)], [(g, .5), (wrong, .5)]):
        gt, res = _one_video([g], order)
        ours = evaluate_ytvis(gt, res)
        ref = mmdet_ytviseval(gt, res, False, monkeypatch)[0]
        assert np.array_equal([ours[k] for k in STAT_NAMES], ref)
    assert evaluate_ytvis(*_one_video([g], [(wrong, .5), (g, .5)]))['AP'] \
        == pytest.approx(0.5)
    assert evaluate_ytvis(*_one_video([g], [(g, .5), (wrong, .5)]))['AP'] \
        == pytest.approx(1.0)


def test_equal_iou_goes_to_the_later_ground_truth(monkeypatch):
    # d1 has IoU exactly 0.5 with gA and with gB; the official loop keeps
    # the later of equal matches (gB), which leaves gA for d2 (IoU .75).
    gA = [box(H, W, 0, 4, 0, 4)] * 2  # 16 px
    gB = [box(H, W, 0, 4, 4, 8)] * 2  # 16 px
    d1 = [box(H, W, 0, 4, 0, 8)] * 2  # 32 px: 16 / 32 with each
    d2 = [box(H, W, 0, 4, 0, 3)] * 2  # 12 / 16 with gA
    ious = video_iou([_t(d1)], [_t(gA), _t(gB)])
    assert ious[0, 0] == ious[0, 1] == 0.5
    gt, res = _one_video([gA, gB], [(d1, .9), (d2, .8)])
    ours = evaluate_ytvis(gt, res)
    # recall 2/2 at .5, 1/2 at .55-.75, 0 above (gA winning would give
    # 1/2 at .5 too, i.e. 0.30)
    assert ours['AR100'] == pytest.approx(0.35)
    assert ours['AP50'] == pytest.approx(1.0)
    ref = mmdet_ytviseval(gt, res, False, monkeypatch)[0]
    assert np.array_equal([ours[k] for k in STAT_NAMES], ref)


def test_crowd_ground_truth_is_ignored():
    g = [box(H, W, 0, 10, 0, 10)] * 2
    crowd = [box(H, W, 10, 20, 0, 20)] * 2
    on_crowd = [box(H, W, 10, 20, 0, 20)] * 2
    gt, res = _one_video([g, crowd], [(g, .5), (on_crowd, .9)], crowd=(1, ))
    stats = evaluate_ytvis(gt, res)
    # the prediction on the crowd region is neither TP nor FP
    assert stats['AP'] == pytest.approx(1.0) and stats['AR100'] == 1.0


def test_size_buckets_use_mean_present_area_with_inclusive_bounds():
    h, w = 300, 300
    sq = box(h, w, 0, 128, 0, 128)  # 128^2 exactly: small AND medium
    gt = make_gt([(1, h, w, 3, [dict(masks=[sq, None, sq])])])
    res = [make_res(1, [sq, None, sq], .9)]
    stats = evaluate_ytvis(gt, res)
    assert stats['APs'] == pytest.approx(
        1.0) and stats['APm'] == pytest.approx(1.0)
    assert stats['APl'] == -1
    # mean over present frames only: areas 110^2 and 160^2 -> mean 18850
    # (medium) although 110^2 alone is small; the absent frame is not a 0
    a, b = box(h, w, 0, 110, 0, 110), box(h, w, 0, 160, 0, 160)
    gt = make_gt([(1, h, w, 3, [dict(masks=[a, None, b])])])
    stats = evaluate_ytvis(gt, [make_res(1, [a, None, b], .9)])
    assert stats['APs'] == -1 and stats['APm'] == pytest.approx(1.0)


def test_json_areas_decide_the_bucket_not_the_masks():
    sq = box(H, W, 0, 10, 0, 10)  # 100 px
    gt = make_gt([(1, H, W, 1, [dict(masks=[sq])])])
    gt['annotations'][0]['areas'] = [300 * 300.]  # official file value
    stats = evaluate_ytvis(gt, [make_res(1, [sq], .9)])
    # large by its file area; the matched prediction follows its gt
    assert stats['APl'] == pytest.approx(1.0)
    assert stats['APs'] == -1 and stats['APm'] == -1


def test_empty_predictions_and_empty_ground_truth():
    g = [box(H, W, 0, 10, 0, 10)] * 2
    gt = make_gt([(1, H, W, 2, [dict(masks=g)]), (2, H, W, 2, [])])
    # video 2 has no ground truth, one prediction: a false positive
    res = [make_res(1, g, .5), make_res(2, g, .9)]
    stats = evaluate_ytvis(gt, res)
    assert stats['AR100'] == 1.0
    assert stats['AP'] == pytest.approx(0.5)
    # video 1 without predictions: recall 0
    stats = evaluate_ytvis(gt, [make_res(2, g, .9)])
    assert stats['AR100'] == 0.0 and stats['AP'] == 0.0
    # no ground truth at all: every statistic undefined
    gt0 = make_gt([(2, H, W, 2, [])])
    stats = evaluate_ytvis(gt0, [make_res(2, g, .9)])
    assert all(stats[k] == -1 for k in STAT_NAMES)


def test_class_aware_vs_agnostic():
    g = [box(H, W, 0, 10, 0, 10)] * 2
    gt = make_gt([(1, H, W, 2, [dict(masks=g, category_id=1)])],
                 categories=(1, 2))
    res = [make_res(1, g, .9, category_id=2)]
    assert evaluate_ytvis(
        gt, res, class_agnostic=True)['AP'] == pytest.approx(1.0)
    assert evaluate_ytvis(gt, res, class_agnostic=False)['AP'] == 0.0


def test_bad_input_names_the_video():
    g = [box(H, W, 0, 10, 0, 10)] * 2
    gt = make_gt([(7, H, W, 2, [dict(masks=g)])])
    with pytest.raises(InputError, match='empty'):
        evaluate_ytvis(gt, [])
    with pytest.raises(InputError, match='video id 8'):
        evaluate_ytvis(gt, [make_res(8, g, .5)])
    with pytest.raises(InputError, match=r'video 7.*3 segmentations'):
        evaluate_ytvis(gt, [make_res(7, g + g[:1], .5)])
    wrong = [box(H + 1, W, 0, 10, 0, 10)] * 2
    with pytest.raises(InputError, match=r'video 7.*frame 0.*size'):
        evaluate_ytvis(gt, [make_res(7, wrong, .5)])
    with pytest.raises(InputError, match='category id 5'):
        evaluate_ytvis(gt, [make_res(7, g, .5, category_id=5)])
    with pytest.raises(InputError, match='not found'):
        evaluate_ytvis('/nonexistent/gt.json', [make_res(7, g, .5)])
    with pytest.raises(InputError, match=r'video id \[7\]'):
        evaluate_ytvis(gt, [make_res([7], g, .5)])  # unhashable id
    with pytest.raises(InputError, match=r'category id \[1\]'):
        evaluate_ytvis(gt, [make_res(7, g, .5, category_id=[1])])


def test_rle_run_totals_of_pycocotools_encodings_are_the_mask_size():
    rng = np.random.default_rng(0)
    counts, want = [], []
    for h, w in [(1, 1), (3, 7), (20, 20), (64, 48), (300, 5), (1000, 900)]:
        for p in (0., .001, .5, 1.):
            m = np.asfortranarray((rng.random((h, w)) < p).astype(np.uint8))
            rle = mask_utils.encode(m)
            counts.append(rle['counts'] if p < .5 else rle['counts'].decode())
            want.append(h * w)
    counts += [b'', 'abc~', 'é', b'0' * 13 + b'`' * 13 + b'0']
    want += [0, -1, -1, -1]
    assert M.rle_run_totals(counts).tolist() == want


@pytest.mark.parametrize('runs',
                         [[H * W - 5, 10], [H * W - 10], [0, H * W, 1]])
def test_rle_whose_runs_do_not_cover_the_frame_is_refused(runs):
    """At the API (the tool test is in
    test_exporters_tools.py)."""
    g = [box(H, W, 0, 10, 0, 10)] * 2
    gt = make_gt([(7, H, W, 2, [dict(masks=g)])])
    res = make_res(7, g, .5)
    res['segmentations'][1] = dict(size=[H, W], counts=runs)
    with pytest.raises(
            InputError,
            match=r'result 0 \(video 7\), frame 1: '
            'the RLE has runs covering'):
        evaluate_ytvis(gt, [res])
    # the same check protects the ground truth
    gt['annotations'][0]['segmentations'][0] = dict(size=[H, W], counts=runs)
    with pytest.raises(
            InputError, match='ground-truth annotation 1 of '
            'video 7, frame 0'):
        evaluate_ytvis(gt, [make_res(7, g, .5)])


def test_uncompressed_and_polygon_ground_truth():
    sq = box(H, W, 2, 6, 2, 6)
    gt = make_gt([(1, H, W, 2, [dict(masks=[sq, sq])])])
    seg = gt['annotations'][0]['segmentations']
    # uncompressed RLE (the official GT encoding) for frame 0
    flat = sq.flatten(order='F').astype(np.int64)
    change = np.flatnonzero(np.diff(np.r_[0, flat, 1 - flat[-1]]))
    counts = np.diff(np.r_[0, change]).tolist()
    if flat[0]:
        counts = [0] + counts
    seg[0] = dict(counts=counts, size=[H, W])
    stats = evaluate_ytvis(gt, [make_res(1, [sq, sq], .9)])
    assert stats['AP'] == pytest.approx(1.0)
    # a polygon covering the same square
    seg[1] = [[2, 2, 6, 2, 6, 6, 2, 6]]
    assert evaluate_ytvis(
        gt, [make_res(1, [sq, sq], .9)])['AP50'] == pytest.approx(1.0)
