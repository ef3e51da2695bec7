"""Pseudo-mask JSONs that used to be scored (or drawn) without a word, or
made the evaluator spin: each is now one line naming the problem (exit 2)
in the evaluator, the viewer and the API."""
import json

import numpy as np
import pytest

from vcl_mm.datasets.api_wrappers.masks import encode
from vcl_mm.evaluation.pseudo_masks import evaluate_pseudo_masks
from vcl_mm.testing.runners import run_tool
from vcl_mm.utils import InputError

H, W = 24, 32


def _mask(x0=2, y0=3, x1=12, y1=15):
    m = np.zeros((H, W), bool)
    m[y0:y1, x0:x1] = True
    return m


def _dataset(anns, images=None):
    images = images or [
        dict(id=1, file_name='a.png', height=H, width=W),
        dict(id=2, file_name='b.png', height=H, width=W)
    ]
    return dict(images=images, annotations=anns,
                categories=[dict(id=1, name='fg')])


def _ann(i, image_id=1, seg=None, **extra):
    return dict(id=i, image_id=image_id, category_id=1,
                segmentation=encode(_mask()) if seg is None else seg,
                **extra)


@pytest.fixture
def gt(tmp_path):
    path = tmp_path / 'gt.json'
    path.write_text(json.dumps(_dataset([_ann(1), _ann(2, image_id=2)])))
    return str(path)


def _write(tmp_path, data, name='pseudo.json'):
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return str(path)


def _overflowing_rle():
    """Runs adding up to far more pixels than the image has (the kind that
    made pycocotools read past the mask)."""
    from pycocotools import mask as mask_utils
    rle = mask_utils.frPyObjects(
        dict(size=[H, W], counts=[5, 10**6, 3]), H, W)
    return dict(size=[H, W], counts=rle['counts'].decode('ascii'))


BAD = {
    'orphan image_id': (
        lambda: _dataset([_ann(1), _ann(2, image_id=99)]),
        'not in "images"'),
    'nan score': (
        lambda: _dataset([_ann(1, score=float('nan'))]), 'finite'),
    'inf score': (
        lambda: _dataset([_ann(1, score=float('inf'))]), 'finite'),
    'string score': (
        lambda: _dataset([_ann(1, score='0.9')]), 'finite'),
    'image id twice': (
        lambda: _dataset([_ann(1)], images=[
            dict(id=1, file_name='a.png', height=H, width=W),
            dict(id=1, file_name='b.png', height=H, width=W)
        ]), 'twice'),
    'file name twice': (
        lambda: _dataset([_ann(1)], images=[
            dict(id=1, file_name='a.png', height=H, width=W),
            dict(id=2, file_name='a.png', height=H, width=W)
        ]), 'twice'),
    'rle size differs from the image': (
        lambda: _dataset([_ann(1, seg=encode(np.zeros((W, H), bool)))]),
        'RLE size'),
    'runs overflow the image': (
        lambda: _dataset([_ann(1, seg=_overflowing_rle())]),
        'runs covering'),
    'invalid counts characters': (
        lambda: _dataset([_ann(1, seg=dict(size=[H, W], counts='~~~'))]),
        'not valid compressed RLE'),
    'uncompressed runs too short': (
        lambda: _dataset([_ann(1, seg=dict(size=[H, W], counts=[3, 4]))]),
        'adding up'),
    'flat polygon': (
        lambda: _dataset([_ann(1, seg=[1, 2, 3, 4, 5, 6])]), 'polygons'),
    'odd polygon': (
        lambda: _dataset([_ann(1, seg=[[1, 2, 3, 4, 5]])]), 'polygons'),
    'segmentation a number': (
        lambda: _dataset([_ann(1, seg=7)]), 'RLE dict or a polygon'),
    'zero height image': (
        lambda: _dataset([], images=[
            dict(id=1, file_name='a.png', height=0, width=W)]),
        'positive integers'),
    'annotation not an object': (
        lambda: dict(_dataset([]), annotations=[3]), 'not an object'),
}


@pytest.mark.parametrize('case', sorted(BAD))
def test_bad_pseudo_json_is_named(case, tmp_path, gt):
    make, match = BAD[case]
    path = _write(tmp_path, make())
    with pytest.raises(InputError, match=match):
        evaluate_pseudo_masks(path, gt, progress=False)


def test_bad_ground_truth_is_named_too(tmp_path):
    good = _write(tmp_path, _dataset([_ann(1)]))
    bad = _write(tmp_path, _dataset([_ann(1, image_id=5)]), 'gt.json')
    with pytest.raises(InputError, match='gt.json.*not in "images"'):
        evaluate_pseudo_masks(good, bad, progress=False)


def test_good_json_still_scores(tmp_path, gt):
    path = _write(tmp_path, _dataset([_ann(1, score=0.5),
                                      _ann(2, image_id=2, score=1)]))
    report = evaluate_pseudo_masks(path, gt, progress=False)
    assert report['summary']['recall50'] == 1.0


@pytest.mark.parametrize('case', ['runs overflow the image', 'nan score',
                                  'orphan image_id'])
def test_eval_tool_one_line_and_no_hang(case, tmp_path, gt):
    path = _write(tmp_path, BAD[case][0]())
    res = run_tool(['tools/analysis_tools/eval_pseudo_masks.py', path, gt,
                    '--no-progress'], timeout=120)
    assert res.returncode == 2, res.stderr
    assert res.stderr.startswith('error: ') and 'Traceback' not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_eval_tool_output_below_a_file_fails_first(tmp_path, gt):
    path = _write(tmp_path, _dataset([_ann(1)]))
    (tmp_path / 'file').write_text('x')
    for flag in ('--out', '--per-image'):
        res = run_tool(['tools/analysis_tools/eval_pseudo_masks.py', path,
                        gt, '--no-progress', flag,
                        str(tmp_path / 'file' / 'r.json')], timeout=120)
        assert res.returncode == 2 and 'is a file' in res.stderr, res.stderr
        assert 'AP' not in res.stdout  # refused before the evaluation


VIEWER_BAD = {
    'truncated': ('{"images": [{"id": 1, ', 'not valid JSON'),
    'a list': ('[1, 2]', 'is a list'),
    'images not objects': (json.dumps(dict(images=[1], annotations=[])),
                           'not an object'),
    'wrong-shaped polygons': (json.dumps(
        _dataset([_ann(1, seg=[[1, 2, 'x', 4, 5, 6]])])), 'polygons'),
    'orphan': (json.dumps(_dataset([_ann(1, image_id=7)])),
               'not in "images"'),
}


@pytest.mark.parametrize('case', sorted(VIEWER_BAD))
def test_viewer_bad_json_one_line(case, tmp_path):
    text, match = VIEWER_BAD[case]
    path = _write(tmp_path, text)
    (tmp_path / 'imgs').mkdir()
    res = run_tool(['tools/analysis_tools/show_pseudo_masks.py', path,
                    '--img-root', str(tmp_path / 'imgs'), '--output-dir',
                    str(tmp_path / 'out')], timeout=120)
    assert res.returncode == 2, res.stderr
    assert match in res.stderr and 'Traceback' not in res.stderr


def test_viewer_draws_polygons_and_refuses_output_below_file(tmp_path):
    from PIL import Image
    (tmp_path / 'imgs').mkdir()
    Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(
        tmp_path / 'imgs' / 'a.png')
    poly = [[2., 2., 20., 2., 20., 15., 2., 15.]]
    path = _write(tmp_path, _dataset([_ann(1, seg=poly)]))
    res = run_tool(['tools/analysis_tools/show_pseudo_masks.py', path,
                    '--img-root', str(tmp_path / 'imgs'), '--output-dir',
                    str(tmp_path / 'out')], timeout=120)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / 'out' / 'a.png').is_file()
    (tmp_path / 'file').write_text('x')
    res = run_tool(['tools/analysis_tools/show_pseudo_masks.py', path,
                    '--img-root', str(tmp_path / 'imgs'), '--output-dir',
                    str(tmp_path / 'file' / 'out')], timeout=120)
    assert res.returncode == 2 and 'is a file' in res.stderr, res.stderr
