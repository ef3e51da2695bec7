"""Data formats in vcl_mm/datasets/api_wrappers: the mask module, the fast
RLE JSON reader, and the layering rules (light imports, datasets never
import evaluation)."""
import ast
import json
import subprocess
import sys

import numpy as np
import pytest
from evalhelpers import REPO_ROOT, box, make_gt, make_res
from pycocotools import mask as mask_utils

from vcl_mm.datasets.api_wrappers import masks as M
from vcl_mm.datasets.api_wrappers import rle_json
from vcl_mm.evaluation.functional import STAT_NAMES, evaluate_ytvis


def _uncompressed(mask):
    """Official ground-truth encoding: run lengths, column-major."""
    flat = mask.flatten(order='F').astype(np.int64)
    change = np.flatnonzero(np.diff(flat)) + 1
    runs = np.diff(np.r_[0, change, flat.size]).tolist()
    return [0] + runs if flat[0] else runs


def test_mask_module_agrees_with_pycocotools():
    rng = np.random.default_rng(0)
    masks = rng.random((4, 17, 23)) < .3
    masks[2] = False
    rles = M.encode(masks)
    assert all(isinstance(r['counts'], str) for r in rles)
    assert isinstance(M.encode(masks, str_counts=False)[0]['counts'], bytes)
    assert np.array_equal(M.decode(rles), masks)
    assert np.array_equal(M.decode(rles[0]), masks[0])
    want = mask_utils.toBbox(rles)
    assert np.array_equal(M.rle_boxes(rles), want)
    assert np.array_equal(M.mask_boxes(masks, 'xywh'), want)
    xyxy = M.mask_boxes(masks)
    assert xyxy.dtype == np.float32
    assert np.array_equal(xyxy[:, 2:], want[:, :2] + want[:, 2:])
    assert M.rle_areas(rles).tolist() == masks.sum((1, 2)).tolist()
    assert np.array_equal(
        M.rle_iou(rles[:2], rles[1:]),
        mask_utils.iou(rles[:2], rles[1:], [0, 0, 0]))
    un = dict(size=[17, 23], counts=_uncompressed(masks[0]))
    assert M.to_rle(un, 17, 23)['counts'] == mask_utils.encode(
        np.asfortranarray(masks[0].astype(np.uint8)))['counts']
    assert M.seg_to_box(un, 17, 23) == want[0].tolist()
    poly = [[2, 3, 10, 3, 10, 9, 2, 9]]
    assert M.polygon_box(poly) == [2., 3., 8., 6.]
    assert M.seg_to_box(poly, 17, 23) == mask_utils.toBbox(
        mask_utils.merge(mask_utils.frPyObjects(poly, 17, 23))).tolist()
    assert M.mean_area([None, 0, 4, 8]) == 6. and M.mean_area([None]) == 0


def test_rle_json_encodes_counts_lists_as_pycocotools(tmp_path):
    rng = np.random.default_rng(1)
    entries = []
    for _ in range(60):
        h, w = (int(v) for v in rng.integers(1, 40, 2))
        m = rng.random((h, w)) < rng.random()
        entries.append(
            dict(
                a=dict(size=[h, w], counts=_uncompressed(m)),
                b=M.encode(m),  # compressed: left to json
                s='counts',  # "counts" as a value
                counts=3,  # and as a key of something else
                n=None))
    path = tmp_path / 'x.json'
    path.write_text(json.dumps(dict(x=entries, y='"counts": [1, 2]')))
    obj, table, index = rle_json.load_rle_json(str(path))
    assert table is not None and len(index) == 60
    assert obj['y'] == '"counts": [1, 2]'
    for got, want in zip(obj['x'], entries):
        ref = mask_utils.frPyObjects(want['a'], *want['a']['size'])
        assert got['a']['counts'] == ref['counts']
        k = index[id(got['a'])]
        assert table.areas[k] == mask_utils.area(ref)
        assert table.totals[k] == want['a']['size'][0] * want['a']['size'][1]
        assert got['b'] == want['b'] and got['s'] == 'counts'
        assert got['counts'] == 3 and got['n'] is None


@pytest.mark.parametrize('counts', ['[1.5, 2]', '[-1, 5]', '[1e3]',
                                    '[99999999999]'])
def test_rle_json_steps_aside_for_unexpected_counts(tmp_path, counts):
    path = tmp_path / 'x.json'
    path.write_text('{"a": {"size": [1, 2], "counts": ' + counts + '}}')
    obj, table, index = rle_json.load_rle_json(str(path))
    assert table is None and index == {}
    assert obj == json.loads(path.read_text())


def test_rle_string_stats_equal_the_numpy_decoder_and_pycocotools():
    rng = np.random.default_rng(2)
    rles = [
        M.encode(rng.random((h, w)) < p)
        for h, w in [(1, 1), (3, 7), (64, 48), (300, 5)]
        for p in (0., .01, .5, 1.)
    ]
    counts = [r['counts'] for r in rles]
    bad = [b'', 'abc~', 'é', b'0' * 13 + b'`' * 13 + b'0']
    totals, areas, _ = rle_json.rle_string_stats(counts + bad)
    assert totals.tolist() == M.rle_run_totals(counts + bad).tolist()
    assert areas[:len(counts)].tolist() == mask_utils.area(rles).tolist()


def test_files_and_in_memory_content_give_the_same_statistics(
        tmp_path, bench):
    gt, res = bench.make_ytvis_case(
        4, num_videos=8, frames=(3, 6), size=(90, 160), preds=6)
    gt_path, res_path = tmp_path / 'gt.json', tmp_path / 'res.json'
    gt_path.write_text(json.dumps(gt))
    res_path.write_text(json.dumps(res))
    for agnostic in (True, False):
        a = evaluate_ytvis(str(gt_path), str(res_path), agnostic)
        b = evaluate_ytvis(gt, res, agnostic)
        assert [a[k] for k in STAT_NAMES] == [b[k] for k in STAT_NAMES]
    # in-memory input is not modified
    assert json.loads(res_path.read_text()) == res


def test_rle_errors_are_the_same_from_a_file(tmp_path):
    from vcl_mm.utils import InputError
    H = W = 20
    g = [box(H, W, 0, 10, 0, 10)] * 2
    gt = make_gt([(7, H, W, 2, [dict(masks=g)])])
    gt['annotations'][0]['segmentations'][0] = dict(
        size=[H, W], counts=[H * W - 5, 10])
    path = tmp_path / 'gt.json'
    path.write_text(json.dumps(gt))
    with pytest.raises(
            InputError,
            match='ground-truth annotation 1 of video 7, frame 0: the RLE '
            'has runs covering 405 pixels'):
        evaluate_ytvis(str(path), [make_res(7, g, .5)])


def test_protocol_and_formats_import_no_torch_or_mmdet():
    code = ('import sys\n'
            'import vcl_mm.evaluation.functional\n'
            'import vcl_mm.evaluation.track_results\n'
            'import vcl_mm.datasets.api_wrappers.ytvis_api\n'
            'import vcl_mm.datasets.api_wrappers.davis_format\n'
            'heavy = [m for m in ("torch", "mmdet", "mmengine", "mmcv") '
            'if m in sys.modules]\n'
            'assert not heavy, heavy\n')
    subprocess.run([sys.executable, '-c', code], check=True, cwd=REPO_ROOT)


def test_datasets_never_import_evaluation():
    offenders = []
    for path in (REPO_ROOT / 'vcl_mm' / 'datasets').rglob('*.py'):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [('.' * node.level) + (node.module or '')]
            for name in names:
                if 'evaluation' in name:
                    offenders.append(f'{path}: {name}')
    assert not offenders
