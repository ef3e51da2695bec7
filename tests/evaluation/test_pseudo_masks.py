"""Pseudo-mask quality (vcl_mm.evaluation.pseudo_masks and
tools/analysis_tools/eval_pseudo_masks.py) on generated images: COCO stats
against pycocotools run the plain way on hand-aligned files, the per-image
report against dense numpy, bad input, and the tool's light imports."""
import contextlib
import csv
import io
import json

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from vcl_mm.apis.baselines import pseudo_mask_quality
from vcl_mm.datasets.api_wrappers.masks import decode, encode, rle_boxes
from vcl_mm.evaluation.pseudo_masks import STAT_NAMES, evaluate_pseudo_masks
from vcl_mm.testing.runners import run_tool
from vcl_mm.testing.toy_data import write_image_set
from vcl_mm.utils import InputError

TOOL = 'tools/analysis_tools/eval_pseudo_masks.py'


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    """A ground truth of two categories with a crowd region, and pseudo-masks
    under other image ids and order, category 1, some shifted or missing,
    one spurious, no scores (as MaskCut writes them)."""
    root = tmp_path_factory.mktemp('pq')
    gt_file = write_image_set(
        str(root), num_images=5, seed=3, size=(64, 80))['ann_file']
    with open(gt_file) as f:
        gt = json.load(f)
    gt['categories'] = [dict(id=3, name='a'), dict(id=5, name='b')]
    for k, ann in enumerate(gt['annotations']):
        ann['category_id'] = (3, 5)[k % 2]
    gt['annotations'][0]['iscrowd'] = 1
    with open(gt_file, 'w') as f:
        json.dump(gt, f)
    rng = np.random.default_rng(0)
    new_id = {im['id']: 100 - im['id'] for im in gt['images']}
    anns = []
    for ann in gt['annotations'][1:]:
        if rng.random() < 0.2:
            continue
        mask = np.roll(decode(ann['segmentation']),
                       int(rng.integers(-8, 9)), axis=1)
        anns.append(
            dict(id=len(anns) + 1, image_id=new_id[ann['image_id']],
                 category_id=1, segmentation=encode(mask)))
    spurious = np.zeros((64, 80), bool)
    spurious[:10, :10] = True
    anns.append(
        dict(id=len(anns) + 1, image_id=new_id[1], category_id=1,
             segmentation=encode(spurious)))
    pseudo = dict(
        images=[dict(im, id=new_id[im['id']]) for im in gt['images'][::-1]],
        annotations=anns,
        categories=[dict(id=1, name='fg')])
    pseudo_file = str(root / 'pseudo.json')
    with open(pseudo_file, 'w') as f:
        json.dump(pseudo, f)
    return dict(root=root, gt=gt, gt_file=gt_file, pseudo=pseudo,
                pseudo_file=pseudo_file, new_id=new_id)


def plain_pycocotools(gt, pseudo, new_id, iou_type):
    """pycocotools on files aligned by hand: one category, results keyed
    by the ground truth's ids, scores 1 / (k + 1) by order in the image."""
    old_id = {v: k for k, v in new_id.items()}
    gt = dict(gt, categories=[dict(id=1, name='object')],
              annotations=[dict(a, category_id=1)
                           for a in gt['annotations']])
    seen, results = {}, []
    for ann in pseudo['annotations']:
        k = seen.get(ann['image_id'], 0)
        seen[ann['image_id']] = k + 1
        results.append(
            dict(image_id=old_id[ann['image_id']], category_id=1,
                 segmentation=ann['segmentation'],
                 bbox=rle_boxes([ann['segmentation']])[0].tolist(),
                 score=1. / (k + 1)))
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = gt
        coco.createIndex()
        ev = COCOeval(coco, coco.loadRes(results), iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return dict(zip(STAT_NAMES, ev.stats.tolist()))


def test_stats_equal_pycocotools_on_aligned_files(files):
    report = evaluate_pseudo_masks(
        files['pseudo_file'], files['gt_file'], progress=False)
    for iou_type in ('bbox', 'segm'):
        want = plain_pycocotools(files['gt'], files['pseudo'],
                                 files['new_id'], iou_type)
        assert report[iou_type] == pytest.approx(want, abs=1e-12)
    assert 0 < report['segm']['AP'] < 1
    assert report['summary']['matched_by'] == 'file_name'
    assert report['summary']['ranked_by'].startswith('discovery order')


def test_per_image_report_equals_dense_best_iou(files):
    report = evaluate_pseudo_masks(
        files['pseudo_file'], files['gt_file'], progress=False)
    gt, pseudo, new_id = files['gt'], files['pseudo'], files['new_id']
    rows = {r['file_name']: r for r in report['per_image']}
    assert len(rows) == len(gt['images'])
    for im in gt['images']:
        objs = [decode(a['segmentation']) for a in gt['annotations']
                if a['image_id'] == im['id'] and not a.get('iscrowd')]
        preds = [decode(a['segmentation']) for a in pseudo['annotations']
                 if a['image_id'] == new_id[im['id']]]
        best = np.array([
            max([(g & p).sum() / (g | p).sum() for p in preds], default=0.)
            for g in objs
        ])
        row = rows[im['file_name']]
        assert (row['num_gt'], row['num_pseudo']) == (len(objs), len(preds))
        assert row['image_id'] == im['id']
        if len(objs):
            assert row['mean_best_iou'] == pytest.approx(best.mean())
            assert row['recall50'] == pytest.approx((best >= 0.5).mean())
        else:
            assert row['mean_best_iou'] is None


def test_scores_rank_when_every_mask_has_one(files, tmp_path):
    pseudo = dict(files['pseudo'])
    # reversed discovery order: the last mask of an image ranks first
    pseudo['annotations'] = [
        dict(a, score=float(a['id'])) for a in pseudo['annotations']
    ]
    path = tmp_path / 'scored.json'
    path.write_text(json.dumps(pseudo))
    scored = evaluate_pseudo_masks(str(path), files['gt_file'],
                                   progress=False)
    assert scored['summary']['ranked_by'] == 'score'
    ranked = evaluate_pseudo_masks(files['pseudo_file'], files['gt_file'],
                                   progress=False)
    assert scored['per_image'] == ranked['per_image']
    assert scored['segm']['AR1'] != ranked['segm']['AR1']


def test_images_match_by_id_when_no_file_name_matches(files, tmp_path):
    gt = dict(files['gt'])
    gt['images'] = [dict(im, file_name='x/' + im['file_name'])
                    for im in gt['images']]
    pseudo = dict(files['pseudo'])
    old_id = {v: k for k, v in files['new_id'].items()}
    pseudo['images'] = [dict(im, id=old_id[im['id']])
                        for im in pseudo['images']]
    pseudo['annotations'] = [dict(a, image_id=old_id[a['image_id']])
                             for a in pseudo['annotations']]
    (tmp_path / 'gt.json').write_text(json.dumps(gt))
    (tmp_path / 'ps.json').write_text(json.dumps(pseudo))
    by_id = evaluate_pseudo_masks(str(tmp_path / 'ps.json'),
                                  str(tmp_path / 'gt.json'), progress=False)
    by_name = evaluate_pseudo_masks(files['pseudo_file'], files['gt_file'],
                                    progress=False)
    assert by_id['summary']['matched_by'] == 'id'
    assert by_id['segm'] == by_name['segm']


def test_quickstart_quality_uses_the_same_files(files):
    # one-to-one (Hungarian) variant of the quickstart, on the same reader
    q = pseudo_mask_quality(files['gt_file'], files['pseudo_file'])
    assert q['num_pseudo_masks'] == len(files['pseudo']['annotations'])
    assert q['num_objects'] == len(files['gt']['annotations'])
    assert 0 < q['mean_iou'] < 1


def _bad(tmp_path, files, name, content):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else
                    json.dumps(content))
    return str(path)


@pytest.mark.parametrize('content, match', [
    ('', 'is empty'),
    ('{"images": [', 'not valid JSON'),
    ([{'image_id': 1, 'score': 1.}], 'is a list'),
    ({'annotations': []}, 'no "images" list'),
    ({'images': []}, 'lists no images'),
    ({'images': [{'id': 1}]}, 'lacks file_name, height, width'),
])
def test_malformed_pseudo_json_is_named(tmp_path, files, content, match):
    path = _bad(tmp_path, files, 'p.json', content)
    with pytest.raises(InputError, match=match):
        evaluate_pseudo_masks(path, files['gt_file'], progress=False)


def test_images_missing_in_gt_sizes_and_mixed_scores_are_named(
        tmp_path, files):
    pseudo = files['pseudo']
    extra = dict(pseudo, images=pseudo['images'] + [
        dict(id=7, file_name='elsewhere.jpg', height=64, width=80)
    ])
    path = _bad(tmp_path, files, 'a.json', extra)
    with pytest.raises(InputError, match='1 of the 6 images .* not in'):
        evaluate_pseudo_masks(path, files['gt_file'], progress=False)
    resized = dict(pseudo, images=[
        dict(im, height=32) for im in pseudo['images']
    ])
    path = _bad(tmp_path, files, 'b.json', resized)
    # its masks no longer fit its own images: named on load
    with pytest.raises(InputError, match='has RLE size'):
        evaluate_pseudo_masks(path, files['gt_file'], progress=False)
    path = _bad(tmp_path, files, 'b.json', dict(resized, annotations=[]))
    with pytest.raises(InputError, match='is 80x32 in'):
        evaluate_pseudo_masks(path, files['gt_file'], progress=False)
    mixed = dict(pseudo, annotations=[
        dict(a, score=1.) if k == 0 else a
        for k, a in enumerate(pseudo['annotations'])
    ])
    path = _bad(tmp_path, files, 'c.json', mixed)
    with pytest.raises(InputError, match='some annotations have a "score"'):
        evaluate_pseudo_masks(path, files['gt_file'], progress=False)


def test_no_pseudo_masks_scores_zero(tmp_path, files):
    path = _bad(tmp_path, files, 'none.json',
                dict(files['pseudo'], annotations=[]))
    report = evaluate_pseudo_masks(path, files['gt_file'], progress=False)
    assert report['segm']['AP'] == 0 and report['bbox']['AR100'] == 0
    assert report['summary']['recall50'] == 0


def test_tool_writes_reports_without_torch_mmcv_mmdet_or_mmengine(files):
    out = files['root'] / 'out'
    code = (
        'import runpy, sys\n'
        f'sys.argv = ["x", {files["pseudo_file"]!r}, {files["gt_file"]!r},'
        f' "--out", {str(out / "r.json")!r}, "--per-image",'
        f' {str(out / "r.csv")!r}]\n'
        f'runpy.run_path({TOOL!r}, run_name="__main__")\n'
        "heavy = [m for m in ('torch', 'mmcv', 'mmdet', 'mmengine') if m in "
        'sys.modules]\n'
        'assert not heavy, heavy\n')
    done = run_tool(['-c', code], timeout=120)
    assert done.returncode == 0, done.stderr
    assert 'mask ' in done.stdout and 'box ' in done.stdout
    report = json.loads((out / 'r.json').read_text())
    with open(out / 'r.csv') as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(report['per_image']) == 5
    assert rows[0]['file_name'] == report['per_image'][0]['file_name']


def test_tool_prints_one_error_line(files, tmp_path):
    done = run_tool([TOOL, str(tmp_path / 'absent.json'), files['gt_file']],
                    timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().startswith('error: pseudo-label JSON not '
                                          'found')
