"""Exporters, offline tools and export-then-evaluate round trips."""
import json
import os
import os.path as osp
import shutil
import sys
import zipfile

import numpy as np
import pytest
from evalhelpers import REPO_ROOT
from pycocotools import mask as mask_utils

from vcl_mm.datasets.api_wrappers.davis_format import (davis_frames,
                                                       read_label_png)
from vcl_mm.evaluation.functional import MEASURES, STAT_NAMES, evaluate_ytvis
from vcl_mm.evaluation.track_results import (encode_masks, group_tracks,
                                             paint_proposals, rank_tracks,
                                             tracks_to_ytvis, write_davis_png,
                                             write_ytvis_results)

sys.path.insert(0, str(REPO_ROOT / 'tools' / 'analysis_tools'))
import eval_davis  # noqa: E402
import eval_ytvis  # noqa: E402


def test_encode_masks_round_trip():
    rng = np.random.default_rng(0)
    masks = rng.random((3, 7, 9)) > 0.5
    rles = encode_masks(masks)
    assert all(isinstance(r['counts'], str) for r in rles)
    back = mask_utils.decode(rles).transpose(2, 0, 1).astype(bool)
    assert np.array_equal(back, masks)
    assert encode_masks(np.zeros((0, 7, 9), bool)) == []


def test_group_tracks_absent_frames_score_and_label():
    m = np.ones((1, 4, 4), bool)
    frames = [
        dict(
            rles=encode_masks(np.concatenate([m, m])),
            scores=[.2, .9],
            labels=[0, 1],
            instances_id=[5, 7]),
        dict(rles=encode_masks(m), scores=[.4], labels=[0], instances_id=[5]),
        dict(rles=encode_masks(m), scores=[.7], labels=[1], instances_id=[7]),
    ]
    tracks = {t['instance_id']: t for t in group_tracks(frames)}
    assert tracks[5]['score'] == pytest.approx(.3)
    assert tracks[5]['rles'][2] is None and tracks[7]['rles'][1] is None
    assert tracks[7]['label'] == 1 and tracks[7]['score'] == pytest.approx(.8)
    entries = tracks_to_ytvis(3, list(tracks.values()))
    assert [e['category_id'] for e in entries] == [1, 2]
    assert all(e['video_id'] == 3 and len(e['segmentations']) == 3
               for e in entries)


def test_rank_and_paint_best_track_wins_overlaps():
    scores = [.1, .9, .5, .9]
    order = rank_tracks(scores, max_proposals=3)
    assert order.tolist() == [1, 3, 2]  # stable for the tie, top 3
    masks = np.zeros((4, 2, 3), bool)
    masks[:, 0, :] = True  # every track covers row 0
    masks[0, 1, :] = True  # only the dropped track covers row 1
    label = paint_proposals(masks[order], [1, 2, 3])
    assert label[0].tolist() == [1, 1, 1]  # best (id 1) on top
    assert label[1].tolist() == [0, 0, 0]
    assert paint_proposals(
        np.zeros((0, 2, 3), bool), [], shape=(2, 3)).shape == (2, 3)


def test_write_ytvis_results_zip(tmp_path):
    entries = [dict(video_id=1, score=.5, category_id=1, segmentations=[None])]
    json_path, zip_path = write_ytvis_results(entries,
                                              str(tmp_path / 'x/results'))
    with zipfile.ZipFile(zip_path) as zf:
        assert zf.namelist() == ['results.json']
        assert json.loads(zf.read('results.json')) == entries
    assert json.load(open(json_path)) == entries


def _gt_tracks_as_results(official, noise=0):
    rng = np.random.default_rng(0)
    results = []
    for ann in official['annotations']:
        segs = []
        for s in ann['segmentations']:
            if s is None:
                segs.append(None)
                continue
            m = mask_utils.decode(s).astype(bool)
            if noise:
                m = np.roll(m, noise, axis=1)
            segs.append(encode_masks(m[None])[0])
        results.append(
            dict(
                video_id=ann['video_id'],
                score=float(rng.random()),
                category_id=1,
                segmentations=segs))
    return results


def test_eval_ytvis_tool(videos, tmp_path, capsys):
    official = json.load(open(videos['ytvis_official']))
    res_path = tmp_path / 'results.json'
    json.dump(_gt_tracks_as_results(official), open(res_path, 'w'))
    out = tmp_path / 'stats.json'
    eval_ytvis.main([
        videos['ytvis_official'],
        str(res_path), '--class-agnostic', '--out',
        str(out)
    ])
    stats = json.load(open(out))
    assert list(stats) == list(STAT_NAMES)
    assert stats['AP'] == pytest.approx(1.0) and stats['AR100'] == 1.0
    assert 'maxDets=100' in capsys.readouterr().out
    # bad input: one line, exit status 2, names the video
    json.dump([dict(video_id=99, score=1., category_id=1, segmentations=[])],
              open(res_path, 'w'))
    with pytest.raises(SystemExit) as e:
        eval_ytvis.main([videos['ytvis_official'], str(res_path)])
    assert e.value.code == 2
    assert 'video id 99' in capsys.readouterr().err


def _runs_rle(runs, h, w):
    """Compressed RLE (counts str) with exactly these runs, valid or not."""
    rle = mask_utils.frPyObjects(dict(counts=runs, size=[h, w]), h, w)
    return dict(size=[h, w], counts=rle['counts'].decode('ascii'))


@pytest.mark.parametrize('kind, message', [
    ('runs beyond the frame', 'covering'),
    ('uncompressed runs beyond the frame', 'covering'),
    ('runs short of the frame', 'covering'),
    ('counts not RLE', 'not valid compressed RLE'),
    ('NaN score', 'score nan'),
    ('null score', 'score None'),
    ('infinite score', 'score inf'),
    ('text score', "score '0.9'"),
])
def test_eval_ytvis_tool_refuses_malformed_results(videos, tmp_path, capsys,
                                                   kind, message):
    """One line naming the result, exit 2."""
    official = json.load(open(videos['ytvis_official']))
    results = _gt_tracks_as_results(official)
    res = results[1]
    t = next(k for k, s in enumerate(res['segmentations']) if s is not None)
    h, w = res['segmentations'][t]['size']
    seg = {
        'runs beyond the frame':
        _runs_rle([h * w - 10, 20], h, w),
        'uncompressed runs beyond the frame':
        dict(size=[h, w], counts=[h * w - 10, 20]),
        'runs short of the frame':
        _runs_rle([h * w - 30, 20], h, w),
        'counts not RLE':
        dict(size=[h, w], counts='abc~'),
    }.get(kind)
    if seg is not None:
        res['segmentations'][t] = seg
    else:
        res['score'] = {
            'NaN score': float('nan'),
            'null score': None,
            'infinite score': float('inf'),
            'text score': '0.9'
        }[kind]
    res_path = tmp_path / 'bad.json'
    json.dump(results, open(res_path, 'w'))
    with pytest.raises(SystemExit) as e:
        eval_ytvis.main([videos['ytvis_official'], str(res_path)])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('error: result 1 ')
    assert message in err[0]


@pytest.mark.parametrize('tool', ['eval_ytvis', 'eval_davis'])
def test_eval_tools_refuse_an_unwritable_out_before_evaluating(
        videos, tmp_path, capsys, tool):
    """An --out below a regular file, for the tools writing one."""
    (tmp_path / 'file').write_text('x')
    out = str(tmp_path / 'file' / 'stats.json')
    if tool == 'eval_ytvis':
        argv = [videos['ytvis_official'], videos['ytvis_official']]
    else:
        argv = [
            '--davis-root', videos['root'], '--results-dir',
            videos['davis_ann_dir'], '--resolution', ''
        ]
    with pytest.raises(SystemExit) as e:
        {
            'eval_ytvis': eval_ytvis,
            'eval_davis': eval_davis
        }[tool].main(argv + ['--out', out])
    assert e.value.code == 2
    captured = capsys.readouterr()
    assert 'evaluation' not in captured.out  # refused before evaluating
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and out in err[0]
    assert 'is a file, not a folder' in err[0]


def test_eval_davis_tool(videos, tmp_path, capsys):
    res_dir = tmp_path / 'res'
    shutil.copytree(videos['davis_ann_dir'], res_dir)
    out = tmp_path / 'davis.json'
    eval_davis.main([
        '--davis-root', videos['root'], '--results-dir',
        str(res_dir), '--resolution', '', '--out',
        str(out)
    ])
    summary = json.load(open(out))
    for k in MEASURES:
        assert k in summary
    assert summary['J&F-Mean'] == 1.0
    assert set(summary['per_sequence']) == set(videos['names'])
    assert 'J&F-Mean' in capsys.readouterr().out
    # a missing frame: one line naming the sequence, exit 2
    seq = videos['names'][0]
    os.remove(res_dir / seq / '00001.png')
    with pytest.raises(SystemExit) as e:
        eval_davis.main([
            '--davis-root', videos['root'], '--results-dir',
            str(res_dir), '--resolution', ''
        ])
    assert e.value.code == 2
    assert f'sequence {seq}' in capsys.readouterr().err


def test_davis_png_export_round_trip_on_real_sequences(shared_data, tmp_path):
    root = osp.join(str(shared_data), 'davis2016-mini')
    ann = osp.join(root, 'Annotations', '480p')
    for seq in ('bear', 'rollerblade', 'soccerball'):
        for f in davis_frames(ann, seq):
            label = read_label_png(osp.join(ann, seq, f'{f}.png'))
            write_davis_png(str(tmp_path / seq / f'{f}.png'), label)
    out = tmp_path / 'davis.json'
    eval_davis.main([
        '--davis-root', root, '--results-dir',
        str(tmp_path), '--out',
        str(out)
    ])
    summary = json.load(open(out))
    assert summary['J&F-Mean'] == 1.0
    assert sorted(
        summary['per_sequence']) == ['bear', 'rollerblade', 'soccerball']


def test_ytvis_export_round_trip(videos, tmp_path):
    official = json.load(open(videos['ytvis_official']))
    results = _gt_tracks_as_results(official, noise=1)
    json_path, _ = write_ytvis_results(results, str(tmp_path / 'r'))
    direct = evaluate_ytvis(official, results)
    from_file = evaluate_ytvis(videos['ytvis_official'], json_path)
    assert [direct[k] for k in STAT_NAMES] == \
        [from_file[k] for k in STAT_NAMES]
    assert 0 < direct['AP'] < 1
