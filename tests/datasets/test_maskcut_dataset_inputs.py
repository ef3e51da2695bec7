"""MaskCutDataset names pseudo-label JSONs that would train on garbage:
runs that do not cover the mask, invalid counts, an image listed twice."""
import json

import numpy as np
import pytest
from PIL import Image

from vcl_mm.datasets.api_wrappers.masks import encode
from vcl_mm.utils import InputError


def _write(tmp_path, anns, images=None):
    (tmp_path / 'images').mkdir(exist_ok=True)
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(
        tmp_path / 'images' / 'a.png')
    images = images or [dict(id=1, file_name='a.png', height=20, width=30)]
    (tmp_path / 'ann.json').write_text(
        json.dumps(dict(images=images, annotations=anns)))


def _build(tmp_path):
    from vcl_mm.datasets import MaskCutDataset
    return MaskCutDataset(data_root=str(tmp_path), ann_file='ann.json',
                          data_prefix=dict(img='images/'), pipeline=[])


def _ann(counts=None):
    m = np.zeros((20, 30), bool)
    m[2:9, 3:15] = True
    seg = encode(m)
    if counts is not None:
        seg['counts'] = counts
    return dict(id=1, image_id=1, category_id=1, segmentation=seg)


@pytest.mark.parametrize('counts,match', [
    ('0', 'runs covering 0 pixels'),
    ('~~~', 'not valid compressed RLE'),
])
def test_bad_runs_named(tmp_path, counts, match):
    from pycocotools import mask as mask_utils
    _write(tmp_path, [_ann(counts)])
    with pytest.raises(InputError, match=match):
        _build(tmp_path)
    over = mask_utils.frPyObjects(
        dict(size=[20, 30], counts=[5, 10**5]), 20, 30)['counts']
    _write(tmp_path, [_ann(over.decode())])
    with pytest.raises(InputError, match='runs covering 100005'):
        _build(tmp_path)


def test_image_listed_twice(tmp_path):
    im = dict(id=1, file_name='a.png', height=20, width=30)
    _write(tmp_path, [_ann()], images=[im, dict(im)])
    with pytest.raises(InputError, match='listed twice'):
        _build(tmp_path)


def test_good_json_loads(tmp_path):
    _write(tmp_path, [_ann()])
    assert len(_build(tmp_path)) == 1


def _browse():
    import importlib.util
    import os.path as osp

    from vcl_mm.testing.runners import REPO_ROOT
    spec = importlib.util.spec_from_file_location(
        'browse_dataset_inputs',
        osp.join(REPO_ROOT, 'tools', 'analysis_tools', 'browse_dataset.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _browse_args(tmp_path, out):
    import os.path as osp

    from vcl_mm.testing.runners import REPO_ROOT
    cfg = osp.join(REPO_ROOT, 'configs', '_base_', 'datasets',
                   'imagecut2video.py')
    return [cfg, '--output-dir', out, '--num', '1', '--cfg-options',
            f'train_dataloader.dataset.dataset.data_root={tmp_path}/',
            'train_dataloader.dataset.dataset.ann_file=ann.json',
            'train_dataloader.dataset.dataset.data_prefix.img=images/']


def test_browse_empty_dataset_one_line(tmp_path, capsys):
    (tmp_path / 'images').mkdir()
    (tmp_path / 'ann.json').write_text(
        json.dumps(dict(images=[], annotations=[])))
    with pytest.raises(SystemExit) as err:
        _browse().main(_browse_args(tmp_path, str(tmp_path / 'vis')))
    assert err.value.code == 2
    assert 'training dataset of the config is empty' in \
        capsys.readouterr().err


def test_browse_output_below_a_file(tmp_path, capsys):
    _write(tmp_path, [_ann()])
    (tmp_path / 'f').write_text('x')
    with pytest.raises(SystemExit) as err:
        _browse().main(_browse_args(tmp_path, str(tmp_path / 'f' / 'vis')))
    assert err.value.code == 2 and 'is a file' in capsys.readouterr().err
