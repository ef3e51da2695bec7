"""DAVIS unsupervised evaluation core: J, F, statistics, matching, and the
three real davis2016-mini sequences."""
import os.path as osp

import cv2
import numpy as np
import pytest

from vcl_mm.evaluation.functional.davis_eval import (DAVISSummary,
                                                     SequenceEvaluator,
                                                     db_statistics, disk,
                                                     frame_scores,
                                                     label_boundaries)
from vcl_mm.datasets.api_wrappers.davis_format import (davis_frames,
                                                       read_label_png)
from vcl_mm.utils import InputError


def _rect(h, w, y0, y1, x0, x1, value=1, out=None):
    m = np.zeros((h, w), np.uint8) if out is None else out
    m[y0:y1, x0:x1] = value
    return m


def test_j_excludes_void_and_is_one_when_both_empty():
    gt = _rect(10, 10, 0, 4, 0, 4)  # 16 px
    res = _rect(10, 10, 0, 4, 2, 6)  # 16 px, overlap 8
    J, _ = frame_scores(gt, res, 1, 2)
    assert J[0, 0] == 8 / 24
    # void over the non-overlapping prediction part: 8 / 16
    void = _rect(10, 10, 0, 4, 4, 6).astype(bool)
    J, _ = frame_scores(gt, res, 1, 2, void=void)
    assert J[0, 0] == 8 / 16
    # the same void written as 255 in the ground truth
    gt255 = gt.copy()
    gt255[void] = 255
    assert frame_scores(gt255, res, 1, 2)[0][0, 0] == 8 / 16
    # proposal 2 and object 1: no overlap -> 0; empty object and empty
    # proposal -> 1
    assert J[1, 0] == 0
    J, F = frame_scores(
        np.zeros((10, 10), np.uint8), np.zeros((10, 10), np.uint8), 1, 1)
    assert J[0, 0] == 1 and F[0, 0] == 1


def test_boundaries_match_seg2bmap_on_random_label_maps(davis_reference):
    rng = np.random.default_rng(0)
    for _ in range(20):
        h, w = rng.integers(3, 30, 2)
        lab = rng.integers(0, 4, (h, w)).astype(np.uint8)
        lab = cv2.medianBlur(lab, 3) if min(h, w) > 3 else lab
        got = label_boundaries(lab, 3)
        for k in range(1, 4):
            want = davis_reference._ref_seg2bmap(lab == k)
            mine = np.zeros((h, w), bool)
            if k in got:
                mine[got[k]] = True
            assert np.array_equal(mine, want)


def test_f_special_cases_and_tolerance():
    h, w = 60, 80
    gt = _rect(h, w, 10, 30, 10, 30)
    # identical -> 1; empty prediction -> precision 1, recall 0 -> F 0
    assert frame_scores(gt, gt, 1, 1)[1][0, 0] == 1
    empty = np.zeros((h, w), np.uint8)
    assert frame_scores(gt, empty, 1, 1)[1][0, 0] == 0
    # prediction where the object is absent -> precision 0, recall 1 -> 0
    assert frame_scores(empty, gt, 1, 1)[1][0, 0] == 0
    # tolerance ceil(0.008 * 100) = 1 px: a 1-px shift keeps F = 1, a
    # 3-px shift does not
    shifted = np.roll(gt, 1, axis=1)
    assert frame_scores(gt, shifted, 1, 1)[1][0, 0] == 1
    assert frame_scores(gt, np.roll(gt, 3, axis=1), 1, 1)[1][0, 0] < 1
    assert disk(1).tolist() == [[0, 1, 0], [1, 1, 1], [0, 1, 0]]


def test_frame_scores_identical_to_reference_with_void(davis_reference):
    rng = np.random.default_rng(1)
    h, w = 64, 96
    for _ in range(5):
        gt = np.zeros((h, w), np.uint8)
        res = np.zeros((h, w), np.uint8)
        for k in range(1, 4):
            y, x = rng.integers(0, h - 10), rng.integers(0, w - 10)
            cv2.ellipse(gt, (int(x), int(y)),
                        (int(rng.integers(3, 20)), int(rng.integers(3, 20))),
                        0, 0, 360, k, -1)
        gt[rng.random((h, w)) < 0.02] = 255
        for k in range(1, 6):
            y, x = rng.integers(0, h), rng.integers(0, w)
            cv2.ellipse(res, (int(x), int(y)),
                        (int(rng.integers(3, 20)), int(rng.integers(3, 20))),
                        0, 0, 360, k, -1)
        J, F = frame_scores(gt, res, 3, 5)
        void = gt == 255
        for j in range(5):
            for i in range(3):
                g = (gt == i + 1)
                r = (res == j + 1)
                assert J[j, i] == davis_reference._ref_iou(
                    g[None], r[None], void[None])[0]
                assert F[j, i] == davis_reference._ref_f_measure(r, g, void)


def test_db_statistics_hand_computed():
    vals = np.array([1., .9, .8, .7, .6, .5, .4, .3])
    mean, recall, decay = db_statistics(vals)
    assert mean == pytest.approx(0.65)
    assert recall == pytest.approx(5 / 8)  # 1 .. .6 are > .5
    # bin edges round(linspace(1, 8, 5) + 1e-10) - 1 = [0, 2, 4, 5, 7],
    # each bin includes its right edge: first [0:3], last [5:8]
    assert decay == pytest.approx(0.9 - 0.4)


def _sequence(frames):
    ev = SequenceEvaluator('toy')
    for gt, res in frames:
        ev.add_frame(gt, res)
    return ev.result()


def test_hungarian_with_more_proposals_than_objects():
    h, w = 40, 40
    gt = _rect(h, w, 0, 10, 0, 10, 1)
    _rect(h, w, 20, 30, 20, 30, 2, out=gt)
    res = _rect(h, w, 20, 30, 20, 30, 1)  # proposal 1 is object 2
    _rect(h, w, 0, 10, 0, 10, 3, out=res)  # proposal 3 is object 1
    _rect(h, w, 35, 40, 0, 5, 2, out=res)  # proposal 2 matches nothing
    result = _sequence([(gt, res)] * 3)
    assert sorted(result.object_ids) == [1, 2]
    match = dict(zip(result.object_ids, result.proposal_ids))
    assert match == {1: 3, 2: 1}
    assert all(result.stats[o]['J-Mean'] == 1 for o in (1, 2))


def test_fewer_proposals_than_objects_pads_with_empty():
    h, w = 40, 40
    gt_visible = _rect(h, w, 0, 10, 0, 10, 1)
    _rect(h, w, 20, 30, 20, 30, 2, out=gt_visible)
    gt_gone = _rect(h, w, 0, 10, 0, 10, 1)  # object 2 left the frame
    res = _rect(h, w, 0, 10, 0, 10, 1)
    result = _sequence([(gt_visible, res), (gt_gone, res)])
    st = result.stats[2]
    # empty padding proposal: 0 where the object is visible, 1 (both
    # empty) where it is not
    assert st['J-Mean'] == 0.5 and st['F-Mean'] == 0.5
    assert result.stats[1]['J-Mean'] == 1


def test_objects_are_counted_from_the_first_frame():
    h, w = 20, 20
    first = _rect(h, w, 0, 5, 0, 5, 1)
    later = _rect(h, w, 0, 5, 0, 5, 1)
    _rect(h, w, 10, 15, 10, 15, 2, out=later)  # appears later: not scored
    result = _sequence([(first, first), (later, first)])
    assert result.object_ids == [1]


def test_too_many_proposals_and_size_mismatch_raise():
    ev = SequenceEvaluator('dog-jump')
    gt = np.zeros((8, 8), np.uint8)
    res = np.zeros((8, 8), np.uint8)
    res[0, 0] = 21
    with pytest.raises(InputError, match='dog-jump.*proposal id 21'):
        ev.add_frame(gt, res, '00000')
    with pytest.raises(InputError, match='dog-jump.*size'):
        SequenceEvaluator('dog-jump').add_frame(gt, np.zeros((8, 9), np.uint8))
    with pytest.raises(InputError, match='no ground-truth objects'):
        DAVISSummary().summary()


def _perturb(label, k):
    """Erode by k px and shift by k px: a worse prediction for larger k."""
    if k == 0:
        return label.copy()
    m = cv2.erode(label, np.ones((2 * k + 1, 2 * k + 1), np.uint8))
    return np.roll(m, k, axis=1)


def test_real_sequences_ground_truth_scores_one_and_perturbation_lowers(
        shared_data):
    root = osp.join(str(shared_data), 'davis2016-mini', 'Annotations', '480p')
    seqs = ('bear', 'rollerblade', 'soccerball')
    gts = {
        s: [
            read_label_png(osp.join(root, s, f'{f}.png'))
            for f in davis_frames(root, s)[::3]
        ]
        for s in seqs
    }
    assert all(np.array_equal(np.unique(g[0]), [0, 1])
               for g in gts.values())  # 0/255 read as object 1
    scores = []
    for k in (0, 2, 6, 12):
        summary = DAVISSummary()
        for s in seqs:
            ev = SequenceEvaluator(s)
            for g in gts[s]:
                ev.add_frame(g, _perturb(g, k))
            summary.add(ev.result())
        out = summary.summary()
        scores.append(out['J&F-Mean'])
        if k == 0:
            for key in ('J&F-Mean', 'J-Mean', 'F-Mean', 'J-Recall',
                        'F-Recall'):
                assert out[key] == 1.0
            assert out['J-Decay'] == 0 and out['F-Decay'] == 0
            assert set(out['per_sequence']) == set(seqs)
    assert all(a > b for a, b in zip(scores, scores[1:])), scores
