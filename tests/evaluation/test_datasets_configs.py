"""YTVISDataset / DAVISDataset and the evaluation configs."""
import json
import os.path as osp

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from mmdet.registry import DATASETS
from vcl_mm.utils import InputError
from vcl_mm.utils.launch import load_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
EVAL_CONFIGS = ('eval_ytvis2019_train', 'eval_ytvis2021_train',
                'eval_davis2017_val', 'eval_davis2017_motion_val')
PACK = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=(1333, 36), keep_ratio=True)
        ]),
    dict(type='PackTrackInputs', meta_keys=('seg_map_path', ))
]


def _ytvis(videos, ann, **kw):
    return DATASETS.build(
        dict(
            type='YTVISDataset',
            data_root=videos['root'],
            ann_file=ann,
            data_prefix=dict(img_path='JPEGImages'),
            test_mode=True,
            **kw))


def _frames(ds):
    out = []
    for i in range(len(ds)):
        for im in ds.get_data_info(i)['images']:
            out.append([(mask_utils.decode(x['mask']).sum(), x['bbox_label'],
                         x['instance_id'] >= 1, x['area'])
                        for x in im['instances']])
    return out


def test_ytvis_official_and_converted_layouts_agree(videos):
    off = _ytvis(
        videos, 'ytvis_official.json', class_agnostic=True, pipeline=PACK)
    conv = _ytvis(videos, 'ytvis_mmdet.json', class_agnostic=True)
    assert off.metainfo['classes'] == ('object', )
    assert len(off) == len(conv) == 3
    assert _frames(off) == _frames(conv)
    assert all(all(ok for _, _, ok, _ in f) for f in _frames(off))
    info = off.get_data_info(0)
    assert info['video_length'] == len(info['images'])
    assert info['images'][0]['img_path'].startswith(
        osp.join(videos['root'], 'JPEGImages'))
    # test mode: one sample holds every frame of the video
    packed = off[0]
    assert packed['inputs'].shape[0] == info['video_length']
    metas = [d.metainfo for d in packed['data_samples'].video_data_samples]
    assert all('instances' in m for m in metas)


def test_ytvis_class_agnostic_merges_categories(videos, tmp_path):
    data = json.load(open(videos['ytvis_official']))
    data['categories'] = [dict(id=1, name='person'), dict(id=2, name='dog')]
    for k, ann in enumerate(data['annotations']):
        ann['category_id'] = 1 + k % 2
    path = tmp_path / 'two_cats.json'
    json.dump(data, open(path, 'w'))
    agn = _ytvis(videos, str(path), class_agnostic=True)
    labels = {
        x['bbox_label']
        for i in range(len(agn))
        for im in agn.get_data_info(i)['images']
        for x in im['instances']
    }
    assert labels == {0}
    aware = _ytvis(videos, str(path), metainfo=dict(classes=('dog', 'person')))
    labels = {
        x['bbox_label']
        for i in range(len(aware))
        for im in aware.get_data_info(i)['images']
        for x in im['instances']
    }
    assert labels == {0, 1}


def test_missing_paths_raise_input_error(videos):
    with pytest.raises(InputError, match='nope.json'):
        _ytvis(videos, 'nope.json')
    with pytest.raises(InputError, match='frames folder'):
        DATASETS.build(
            dict(
                type='YTVISDataset',
                data_root=videos['root'],
                ann_file='ytvis_official.json',
                data_prefix=dict(img_path='missing'),
                test_mode=True))
    with pytest.raises(InputError, match='/no/davis'):
        DATASETS.build(dict(type='DAVISDataset', data_root='/no/davis'))


def test_davis_dataset_with_image_sets(videos):
    ds = DATASETS.build(
        dict(
            type='DAVISDataset',
            data_root=videos['root'],
            resolution='',
            split='val',
            test_mode=True,
            pipeline=PACK))
    assert len(ds) == len(videos['names'])
    info = ds.get_data_info(0)
    assert info['video_id'] == 1
    assert osp.basename(osp.dirname(info['images'][0]['seg_map_path'])) == \
        videos['names'][0]
    ids = {x['instance_id'] for im in info['images'] for x in im['instances']}
    assert ids and min(ids) >= 1
    metas = [d.metainfo for d in ds[0]['data_samples'].video_data_samples]
    assert all(osp.isfile(m['seg_map_path']) for m in metas)
    with pytest.raises(InputError, match=r"split 'train' not found"):
        DATASETS.build(
            dict(
                type='DAVISDataset',
                data_root=videos['root'],
                resolution='',
                split='train'))  # only val.txt exists


def test_davis_dataset_2016_binary_masks_without_image_sets(shared_data):
    ds = DATASETS.build(
        dict(
            type='DAVISDataset',
            data_root=osp.join(str(shared_data), 'davis2016-mini'),
            test_mode=True))
    names = [
        osp.basename(
            osp.dirname(ds.get_data_info(i)['images'][0]['img_path']))
        for i in range(len(ds))
    ]
    assert names == ['bear', 'rollerblade', 'soccerball']
    first = ds.get_data_info(0)['images'][0]
    assert [x['instance_id'] for x in first['instances']] == [1]
    assert first['height'] == 480 and first['width'] == 854


@pytest.mark.parametrize('name', EVAL_CONFIGS)
def test_eval_configs_load_and_name_their_data(name):
    cfg = load_config(
        osp.join(REPO, 'configs', 'videocutler', f'{name}.py'))
    ds = cfg.test_dataloader.dataset
    assert ds.data_root and ds.test_mode
    assert cfg.test_evaluator.type in ('ClassAgnosticYTVISMetric',
                                       'DAVISMetric')
    assert cfg.model.type == 'VideoCutLER'
    assert cfg.model.test_cfg.topk == 10
    assert cfg.default_scope == 'vcl_mm'
    assert cfg.runner_type == 'vcl_mm.DeviceAwareRunner'
    assert ds.pipeline[0].transforms[1].scale == (1333, 360)
    # the official test: PIL bilinear resize, float16 autocast on GPUs
    # with the pixel decoder in float32, stored pixels (no EXIF rotation)
    load, resize = ds.pipeline[0].transforms
    assert load.color_type == 'color_ignore_orientation'
    assert (resize.backend, resize.interpolation) == ('pillow', 'bilinear')
    assert cfg.test_cfg.type == 'DeviceAutocastTestLoop'
    assert cfg.test_cfg.fp16 == 'auto'
    assert cfg.model.track_head.pixel_decoder.type == \
        'FP32MSDeformAttnPixelDecoder'
    if 'davis' in name:
        assert ds.pipeline[-1].meta_keys == ('seg_map_path', )
        assert ds.type == 'DAVISDataset'
        if 'motion' in name:
            assert ds.ann_dir
    else:
        assert ds.type == 'YTVISDataset' and ds.class_agnostic


def _tiny(cfg, data):
    """Shrink the model with the shared CPU smoke overrides."""
    tiny = load_config(
        osp.join(REPO, 'configs', '_base_', 'models',
                 'tiny_mask2former_overrides.py'))
    cfg.merge_from_dict(
        dict(
            model=dict(backbone=tiny.tiny_backbone, track_head=tiny.tiny_head),
            test_dataloader=dict(num_workers=0, dataset=data)))
    cfg.test_dataloader.dataset.pipeline[0].transforms[1].scale = (1333, 48)
    return cfg


@pytest.mark.parametrize('name',
                         ['eval_ytvis2019_train', 'eval_davis2017_val'])
def test_eval_config_runs_end_to_end(name, videos, tmp_path):
    from mmengine.runner import Runner
    cfg = load_config(
        osp.join(REPO, 'configs', 'videocutler', f'{name}.py'))
    if 'davis' in name:
        data = dict(data_root=videos['root'], resolution='')
    else:
        data = dict(
            data_root=videos['root'],
            ann_file='ytvis_official.json',
            data_prefix=dict(img_path='JPEGImages'))
    cfg = _tiny(cfg, data)
    cfg.work_dir = str(tmp_path)
    cfg.env_cfg.dist_cfg = dict(backend='gloo')
    cfg.default_hooks.visualization = dict(
        type='TrackVisualizationHook', draw=False)
    metrics = Runner.from_cfg(cfg).test()
    key = 'davis/J&F-Mean' if 'davis' in name else 'youtube_vis/AP'
    assert key in metrics and np.isfinite(metrics[key])


def test_pillow_resize_is_pil_bilinear():
    """mmcv's pillow backend is detectron2's test resize (antialiased PIL
    bilinear), unlike cv2's bilinear."""
    import mmcv
    from PIL import Image
    img = np.random.default_rng(0).integers(0, 255, (90, 120, 3), np.uint8)
    ours = mmcv.imresize(img, (48, 36), backend='pillow',
                         interpolation='bilinear')
    pil = np.asarray(Image.fromarray(img).resize((48, 36), Image.BILINEAR))
    np.testing.assert_array_equal(ours, pil)
    cv2_like = mmcv.imresize(img, (48, 36), interpolation='bilinear')
    assert (cv2_like != pil).any()


@pytest.mark.parametrize('mode, on_cuda, expected', [('auto', False, False),
                                                     ('auto', True, True),
                                                     (True, False, True),
                                                     (False, True, False)])
def test_test_loop_precision_follows_the_device(monkeypatch, mode, on_cuda,
                                                expected):
    """'auto': float16 autocast on CUDA only; float32 on CPU."""
    import torch
    from mmengine.runner import TestLoop

    import vcl_mm.engine.loops as loops
    loop = loops.DeviceAutocastTestLoop.__new__(loops.DeviceAutocastTestLoop)
    loop.fp16_mode = mode
    loop._runner = type('R', (), {'model': torch.nn.Linear(2, 2)})()
    monkeypatch.setattr(loops, 'wants_fp16', lambda model: on_cuda)
    seen = []
    monkeypatch.setattr(TestLoop, 'run', lambda self: seen.append(self.fp16))
    loop.run()
    assert seen == [expected]


def test_cpu_models_test_in_float32():
    import torch

    from vcl_mm.engine.loops import wants_fp16
    assert not wants_fp16(torch.nn.Linear(2, 2))
    assert not wants_fp16(torch.nn.Module())  # no parameters
