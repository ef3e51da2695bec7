"""EXIF orientation agrees end to end: MaskCut -> MaskCutDataset -> clip.

Upstream reads pixels as stored everywhere (PIL ``convert('RGB')`` in
MaskCut, detectron2's loader in training), so an EXIF-rotated photo is
labelled and trained on in its stored orientation. Our MaskCut, the training
pipelines and the demo do the same by default.
"""
import json
import os.path as osp

import numpy as np
import pytest
from mc_helpers import COLOUR_MODEL_CFG, MASKCUT, best_iou, colour_scene
from PIL import Image

from vcl_mm.maskcut.job import run_maskcut
from vcl_mm.maskcut.images import load_image
from vcl_mm.testing.runners import REPO_ROOT
from vcl_mm.utils.launch import load_config

ROOT = REPO_ROOT
VIDEO_RECIPE = osp.join(ROOT, 'configs', 'videocutler',
                        'videocutler_r50_8xb2-80k_imagenet.py')


def save_with_orientation(path, rgb, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation  # 6: display rotated 90 degrees clockwise
    Image.fromarray(rgb).save(path, exif=exif, quality=95)


@pytest.mark.parametrize('orientation', [6, 3])
def test_exif_rotated_photo_through_maskcut_dataset_and_clip(
        tmp_path, orientation):
    from mmdet.registry import DATASETS
    from mmengine.registry import init_default_scope
    rng = np.random.default_rng(4)
    rgb, gt = colour_scene(rng, 96, 144, num_objects=2)
    folder = tmp_path / 'photos'
    folder.mkdir()
    save_with_orientation(str(folder / 'p.jpg'), rgb, orientation)
    # the reader ignores EXIF unless asked
    assert load_image(str(folder / 'p.jpg')).shape[:2] == (96, 144)
    turned = load_image(str(folder / 'p.jpg'), exif_transpose=True)
    assert turned.shape[:2] == ((144, 96) if orientation == 6 else (96, 144))

    out = tmp_path / 'labels.json'
    run_maskcut(
        COLOUR_MODEL_CFG,
        MASKCUT,
        str(folder),
        str(out),
        engine_cfg=dict(flush_every=1),
        progress=False)
    coco = json.load(open(out))
    assert (coco['images'][0]['height'], coco['images'][0]['width']) == \
        (96, 144)
    assert coco['annotations']

    init_default_scope('vcl_mm')
    recipe = load_config(VIDEO_RECIPE)
    data_cfg = recipe.train_dataloader.dataset
    data_cfg.dataset.update(
        data_root=str(tmp_path) + '/',
        ann_file='labels.json',
        data_prefix=dict(img='photos/'))
    # loading + ImageToClip: the clip's masks lie on the stored pixels
    leaf = dict(
        data_cfg.dataset, pipeline=[*recipe.load_steps, recipe.to_clip])
    clip = DATASETS.build(leaf)[0]
    frame = clip['img'][0]
    assert frame.shape[:2] == (96, 144)
    masks = clip['gt_masks'][0].masks.astype(bool)
    assert max(best_iou(m, list(gt)) for m in masks) > 0.8
    # and the whole recipe pipeline trains on it
    np.random.seed(0)
    packed = DATASETS.build(data_cfg)[0]
    assert packed['inputs'].shape[:2] == (3, 3)
    for sample in packed['data_samples']:
        assert sample.gt_instances.masks.masks.shape[1:] == \
            tuple(packed['inputs'].shape[2:])
