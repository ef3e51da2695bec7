"""The compiled readers of YouTube-VIS files (results scanner, ground-truth
counts table) against the general ``json`` path on the same data, the
fall-back to it, and the all-videos IoU kernel against the per-video one."""
import contextlib
import copy
import io
import json

import numpy as np
import pytest
from evalhelpers import box, enc

from vcl_mm.datasets.api_wrappers import rle_table
from vcl_mm.datasets.api_wrappers.ytvis_api import CheckedYTVIS, ResultsFile
from vcl_mm.evaluation.functional import STAT_NAMES, evaluate_ytvis
from vcl_mm.evaluation.functional import rle_iou
from vcl_mm.utils.errors import InputError

pytestmark = pytest.mark.skipif(not rle_table.HAVE_NUMBA,
                                reason='the compiled readers need numba')


@pytest.fixture(scope='module')
def case(bench):
    """A generated case (uncompressed-RLE ground truth with crowd, S/M/L,
    score ties, absent frames) with \\ in most counts strings."""
    gt, res = bench.make_ytvis_case(
        3, num_videos=8, frames=(3, 7), size=(90, 160), preds=6)
    assert any('\\' in s['counts'] for r in res for s in r['segmentations']
               if s)
    return gt, res


def _write(tmp_path, name, obj, **kw):
    path = tmp_path / name
    path.write_text(json.dumps(obj, **kw))
    return str(path)


def _same_anns(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert sorted(x) == sorted(y)
        for k in x:
            if isinstance(x[k], np.ndarray):
                assert np.array_equal(x[k], y[k]), k
            else:
                assert x[k] == y[k], k


def _stats(ours):
    return [ours[k] for k in STAT_NAMES]


def test_scanned_results_equal_the_json_path(case, tmp_path):
    gt, res = case
    api = CheckedYTVIS(copy.deepcopy(gt))
    path = _write(tmp_path, 'r.json', res)
    rf = ResultsFile(path)
    assert rf.scanned is not None and len(rf.scanned) == len(res)
    fast = api.loadRes(rf)
    general = api.loadRes(path)  # a path: parsed by json
    assert isinstance(fast.anns[1]['segmentations'], rle_table.TrackRLEs)
    assert type(general.anns[1]['segmentations']) is list
    _same_anns([fast.anns[k] for k in sorted(fast.anns)],
               [general.anns[k] for k in sorted(general.anns)])
    seg = fast.anns[1]['segmentations']
    assert seg[0] == general.anns[1]['segmentations'][0]
    assert list(seg) == general.anns[1]['segmentations']


def test_ground_truth_table_equals_the_json_path(case, tmp_path):
    gt, _ = case
    fast = CheckedYTVIS(_write(tmp_path, 'g.json', gt))
    general = CheckedYTVIS(copy.deepcopy(gt))
    assert isinstance(fast.anns[1]['segmentations'], rle_table.TrackRLEs)
    assert type(general.anns[1]['segmentations']) is list
    _same_anns([fast.anns[k] for k in sorted(fast.anns)],
               [general.anns[k] for k in sorted(general.anns)])


def _variants(res):
    """(name, JSON text, whether the scanner reads it)."""
    flipped = [dict(reversed(list(r.items()))) for r in res]
    listed = copy.deepcopy(res)  # one frame as uncompressed counts
    t = next(k for k, s in enumerate(listed[0]['segmentations']) if s)
    from pycocotools import mask as mask_utils
    m = mask_utils.decode(listed[0]['segmentations'][t])
    flat = m.flatten(order='F')
    cuts = np.flatnonzero(np.diff(flat)) + 1
    runs = np.diff(np.concatenate([[0], cuts, [len(flat)]])).tolist()
    if flat[0]:
        runs = [0] + runs
    listed[0]['segmentations'][t] = dict(size=list(m.shape), counts=runs)
    extra = copy.deepcopy(res)
    extra[0]['bboxes'] = [None] * len(extra[0]['segmentations'])
    text = json.dumps(res)
    assert '\\\\' in text and '"video_id": 1,' in text
    return [
        ('compact', json.dumps(res, separators=(',', ':')), True),
        ('indented', json.dumps(res, indent=2), True),
        ('key order', json.dumps(flipped), True),
        ('unicode escape', text.replace('\\\\', '\\u005c', 1), False),
        ('list counts', json.dumps(listed), False),
        ('extra key', json.dumps(extra), False),
        ('float id', text.replace('"video_id": 1,', '"video_id": 1.0,', 1),
         False),
    ]


def test_layout_variants_give_the_same_statistics(case, tmp_path):
    """Whitespace and key order are scanned; escapes other than \\\\,
    list-form counts, other keys and float ids fall back to ``json``; all
    give the general path's statistics."""
    gt, res = case
    gt_path = _write(tmp_path, 'g.json', gt)
    want = _stats(evaluate_ytvis(copy.deepcopy(gt), copy.deepcopy(res)))
    for name, text, scanned in _variants(res):
        path = tmp_path / f'{name}.json'
        path.write_text(text)
        assert (ResultsFile(str(path)).scanned is not None) == scanned, name
        assert _stats(evaluate_ytvis(gt_path, str(path))) == want, name


def _peer(gt, res):
    from mmdet.evaluation.functional import YTVIS, YTVISeval
    with contextlib.redirect_stdout(io.StringIO()):
        api = YTVIS(copy.deepcopy(gt))
        ev = YTVISeval(api, api.loadRes(copy.deepcopy(res)), 'segm')
        ev.params.useCats = 0
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return [float(v) for v in ev.stats]


def test_files_identical_to_mmdet_ytviseval(case, tmp_path, monkeypatch):
    gt, res = case
    monkeypatch.setattr(np, 'float', float, raising=False)
    ours = evaluate_ytvis(
        _write(tmp_path, 'g.json', gt), _write(tmp_path, 'r.json', res))
    assert _stats(ours) == _peer(gt, res)


@pytest.mark.parametrize('message', [
    'score nan', 'score None', 'score inf', "score '0.5'", 'video id 99',
    'category id 7', 'needs "video_id"', 'mask size',
    'the RLE has runs covering', 'not valid compressed RLE: ~',
    'not valid compressed RLE: \u00e9'
])
def test_bad_results_named_as_by_the_json_path(case, tmp_path, message):
    """Anything wrong found on the scanned arrays is named by the general
    path, as for a list."""
    gt, res = case
    res = copy.deepcopy(res)
    r = res[0]
    t = next(k for k, s in enumerate(r['segmentations']) if s)
    if message.startswith('score'):
        r['score'] = {
            'score nan': float('nan'),
            'score None': None,
            'score inf': float('inf'),
            "score '0.5'": '0.5'
        }[message]
    elif message.startswith('video'):
        r['video_id'] = 99
    elif message.startswith('category'):
        r['category_id'] = 7
    elif message.startswith('needs'):
        r['segs'] = r.pop('segmentations')
    elif message.startswith('mask size'):
        h, w = r['segmentations'][t]['size']
        r['segmentations'][t] = enc(box(h + 1, w, 0, 2, 0, 2))
    elif message.startswith('not valid'):  # left to the decoder
        seg = r['segmentations'][t]
        seg['counts'] = seg['counts'][:2] + message[-1] + seg['counts'][2:]
        message = 'is not valid compressed RLE'
    else:
        h, w = r['segmentations'][t]['size']
        r['segmentations'][t] = enc(box(h, w + 1, 0, 2, 0, 2))
        r['segmentations'][t]['size'] = [h, w]
    api = CheckedYTVIS(copy.deepcopy(gt))
    with pytest.raises(InputError, match='result 0') as e:  # raw UTF-8
        api.loadRes(
            ResultsFile(_write(tmp_path, 'bad.json', res,
                               ensure_ascii=False)))
    assert message in str(e.value)
    with pytest.raises(InputError) as e2:
        api.loadRes(res)
    assert str(e2.value) == str(e.value)


def test_all_videos_kernel_equals_the_per_video_one(case):
    gt, res = case
    api = CheckedYTVIS(copy.deepcopy(gt))
    dt = api.loadRes(copy.deepcopy(res))
    d_rows, g_rows, want, want5 = [], [], [], []
    for vid in sorted(api.vids):
        d = [dt.anns[i] for i in dt.getAnnIds(vidIds=[vid])]
        g = [api.anns[i] for i in api.getAnnIds(vidIds=[vid])]
        if not d or not g:
            continue
        d_rows.append(np.stack([a['rle_rows'] for a in d]))
        g_rows.append(np.stack([a['rle_rows'] for a in g]))
        args = ([list(a['segmentations']) for a in d],
                [list(a['segmentations']) for a in g],
                np.stack([a['mask_areas'] for a in d]),
                np.stack([a['mask_areas'] for a in g]))
        want.append(rle_iou.video_iou(*args))
        want5.append(rle_iou.video_iou(*args, min_iou=0.5))
    assert len(want) > 3 and any((w > 0).any() for w in want)
    for threads in (1, 2):
        got = rle_iou.videos_iou(dt.rle_table, api.rle_table, d_rows, g_rows,
                                 None, threads)
        assert all(np.array_equal(a, b) for a, b in zip(got, want))
        got5 = rle_iou.videos_iou(dt.rle_table, api.rle_table, d_rows,
                                  g_rows, 0.5, threads)
        for a, b in zip(got5, want5):  # same where a match is possible
            assert np.array_equal(a[b >= 0.5], b[b >= 0.5])
            assert (a[b < 0.5] < 0.5).all()


def test_track_rles_is_the_list_of_rle_dicts():
    masks = [box(5, 7, 1, 3, 2, 6), None, box(5, 7, 0, 5, 0, 1)]
    rles = [enc(m) if m is not None else None for m in masks]
    table, bad = rle_table.RLETable.from_counts(
        [r['counts'] for r in rles if r])
    assert bad == []
    table.measure()
    assert table.areas.tolist() == [8, 5]
    assert table.totals.tolist() == [35, 35]
    # column-major extent of the first mask: x 2..5, y 1..2 -> 11 .. 27
    assert table.first.tolist() == [11, 0]
    assert table.last.tolist() == [28, 5]
    seq = rle_table.TrackRLEs(table, np.array([0, -1, 1]), 5, 7)
    want = [
        None if r is None else dict(
            size=[5, 7], counts=r['counts'].encode()) for r in rles
    ]
    assert len(seq) == 3 and seq[1] is None and seq == want
    assert seq[::2] == [want[0], want[2]]
