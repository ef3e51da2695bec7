"""MaskCutDataset: reading MaskCut's COCO JSON, sizes, filtering, errors;
and tools/analysis_tools/browse_dataset.py on the same data."""
import json
import os
import os.path as osp
import shutil

import numpy as np
import pytest
from PIL import Image

from vcl_mm.datasets import MaskCutDataset
from vcl_mm.datasets.api_wrappers.masks import encode as encode_rle
from vcl_mm.testing.toy_data import write_image_set
from vcl_mm.utils import InputError
from vcl_mm.testing.runners import REPO_ROOT

ROOT = REPO_ROOT
DATA_CFG = osp.join(ROOT, 'configs', '_base_', 'datasets', 'imagecut2video.py')
H, W = 48, 64  # generated images are not square, so a swap is visible


@pytest.fixture
def image_set(tmp_path):
    """6 generated images (1-2 masks each) plus one without masks, in a
    class subfolder as ImageNet is laid out."""
    root = str(tmp_path)
    write_image_set(root, num_images=6, seed=1, size=(H, W), objects=(1, 2))
    folder = osp.join(root, 'images')
    os.makedirs(osp.join(folder, 'n000'))
    data = load_json(root)
    for img in data['images']:
        shutil.move(
            osp.join(folder, img['file_name']),
            osp.join(folder, 'n000', img['file_name']))
        img['file_name'] = 'n000/' + img['file_name']
    Image.new('RGB', (W, H)).save(osp.join(folder, 'n000', 'empty.jpg'))
    data['images'].append(
        dict(id=100, file_name='n000/empty.jpg', width=W, height=H))
    save_json(root, data)
    return root


def load_json(root, name='gt_masks.json'):
    with open(osp.join(root, name)) as f:
        return json.load(f)


def save_json(root, data, name='gt_masks.json'):
    with open(osp.join(root, name), 'w') as f:
        json.dump(data, f)


def build(root, ann='gt_masks.json', **kwargs):
    return MaskCutDataset(
        data_root=root,
        ann_file=ann,
        data_prefix=dict(img='images/'),
        **kwargs)


def test_reads_pseudo_labels(image_set):
    data = load_json(image_set)
    ds = build(image_set)
    assert len(ds) == 6  # the image without masks is filtered by default
    assert ds.metainfo['classes'] == ('fg', )
    num_masks = sum(len(ds[i]['instances']) for i in range(len(ds)))
    assert num_masks == len(data['annotations'])
    info = ds.get_data_info(0)
    assert osp.isfile(info['img_path']) and '/n000/' in info['img_path']
    assert (info['height'], info['width']) == (H, W)
    inst = info['instances'][0]
    assert inst['bbox_label'] == 0 and inst['ignore_flag'] == 0
    x, y, w, h = data['annotations'][0]['bbox']
    assert inst['bbox'] == [x, y, x + w, y + h]
    assert ds.get_cat_ids(0) == [0] * len(info['instances'])


def test_keep_images_without_masks(image_set):
    ds = build(image_set, filter_cfg=dict(filter_empty_gt=False))
    assert len(ds) == 7
    assert ds.get_data_info(6)['instances'] == []


def test_swapped_json_sizes_are_repaired(image_set):
    data = load_json(image_set)
    for img in data['images']:  # the upstream MaskCut bug
        img['width'], img['height'] = img['height'], img['width']
    save_json(image_set, data)
    for source in ('auto', 'image'):
        ds = build(
            image_set,
            size_source=source,
            filter_cfg=dict(filter_empty_gt=False))
        for i in range(len(ds)):
            info = ds.get_data_info(i)
            assert (info['height'], info['width']) == (H, W), source
        assert sum(len(ds[i]['instances'])
                   for i in range(len(ds))) == len(data['annotations'])
    # trusting the wrong JSON drops every mask (they do not fit)
    ds = build(
        image_set, size_source='json', filter_cfg=dict(filter_empty_gt=False))
    assert all(not ds[i]['instances'] for i in range(len(ds)))
    assert (ds[0]['height'], ds[0]['width']) == (W, H)


def test_sizes_from_header_when_json_has_none(image_set):
    data = load_json(image_set)
    for img in data['images']:
        del img['width'], img['height']
    save_json(image_set, data)
    ds = build(
        image_set, size_source='json', filter_cfg=dict(filter_empty_gt=False))
    assert all(
        (ds[i]['height'], ds[i]['width']) == (H, W) for i in range(len(ds)))


def test_masks_of_the_wrong_size_are_dropped(image_set):
    data = load_json(image_set)
    data['annotations'][0]['segmentation'] = encode_rle(
        np.ones((10, 10), bool))
    save_json(image_set, data)
    for source in ('image', 'auto'):
        ds = build(image_set, size_source=source)
        assert sum(len(ds[i]['instances'])
                   for i in range(len(ds))) == len(data['annotations']) - 1


def test_missing_images_are_named(image_set):
    os.remove(osp.join(image_set, 'images', 'n000', '000002.jpg'))
    os.remove(osp.join(image_set, 'images', 'n000', '000004.jpg'))
    with pytest.raises(InputError) as err:
        build(image_set)
    msg = str(err.value)
    assert '2 of 7 images' in msg and 'n000/000002.jpg' in msg
    assert 'data_prefix' in msg
    ds = build(image_set, check_files=False, size_source='json')
    assert len(ds) == 6
    with pytest.raises(InputError, match='7 of 7'):
        MaskCutDataset(
            data_root=image_set,
            ann_file='gt_masks.json',
            data_prefix=dict(img='nowhere/'))


@pytest.mark.parametrize('mutate, words', [
    (lambda d: [], 'top level is a list'),
    (lambda d: {
        k: v
        for k, v in d.items() if k != 'images'
    }, '"images"'),
    (lambda d: dict(d, videos=[]), 'video JSON'),
    (lambda d: dict(d, images=[dict(id=1)] + d['images']), 'file_name'),
    (lambda d: dict(d, annotations=[dict(image_id=1)]), 'segmentation'),
    (lambda d: dict(d, annotations=[dict(id=5, image_id=1, segmentation=3)]),
     'annotation 5'),
    (lambda d: dict(d, annotations=[dict(image_id=999, segmentation=[])]),
     'image_id'),
])
def test_wrong_schema_is_named(image_set, mutate, words):
    save_json(image_set, mutate(load_json(image_set)), 'bad.json')
    with pytest.raises(InputError) as err:
        build(image_set, ann='bad.json')
    assert words in str(err.value) and 'bad.json' in str(err.value)


def test_unreadable_json_and_missing_file(image_set):
    with open(osp.join(image_set, 'broken.json'), 'w') as f:
        f.write('{"images": [')
    with pytest.raises(InputError, match='not valid JSON'):
        build(image_set, ann='broken.json')
    with pytest.raises(InputError, match='not found'):
        build(image_set, ann='absent.json')
    with pytest.raises(InputError, match='size_source'):
        build(image_set, size_source='exif')


def test_polygon_annotations(image_set):
    data = load_json(image_set)
    data['annotations'][0]['segmentation'] = [[2, 2, 20, 2, 20, 20, 2, 20]]
    del data['annotations'][0]['bbox']
    save_json(image_set, data)
    ds = build(image_set)
    inst = ds.get_data_info(0)['instances'][0]
    assert inst['bbox'] == [2, 2, 20, 20]


def test_browse_dataset_writes_strips(image_set, tmp_path, capsys):
    import sys
    sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis_tools'))
    try:
        import browse_dataset
    finally:
        sys.path.pop(0)
    out = str(tmp_path / 'vis')
    opts = [
        '--cfg-options',
        f'train_dataloader.dataset.dataset.data_root={image_set}/',
        'train_dataloader.dataset.dataset.ann_file=gt_masks.json',
        'train_dataloader.dataset.dataset.data_prefix.img=images/',
        'train_dataloader.dataset.dataset.pipeline.4.transforms.0.scales='
        '[(1333,64)]'
    ]
    browse_dataset.main([DATA_CFG, '--output-dir', out, '--num', '3'] + opts)
    files = sorted(os.listdir(out))
    assert len(files) == 3
    strip = np.asarray(Image.open(osp.join(out, files[0])))
    assert strip.shape[0] == 64 + 24 and strip.shape[1] > 3 * 64
    assert 'ids/frame=' in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        browse_dataset.main([DATA_CFG, '--output-dir', out, '--num', '1'] + [
            '--cfg-options',
            'train_dataloader.dataset.dataset.data_root=/nonexistent/'
        ])
    assert exc.value.code == 2
    assert 'not found' in capsys.readouterr().err
