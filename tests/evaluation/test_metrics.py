"""Registered metrics fed with hand-built TrackDataSamples."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData
from pycocotools import mask as mask_utils

from mmdet.registry import DATASETS, METRICS
from mmdet.structures import DetDataSample, TrackDataSample
from vcl_mm.evaluation.functional import (MEASURES, STAT_NAMES,
                                          evaluate_davis_folder,
                                          evaluate_ytvis)
from vcl_mm.utils import InputError


def _video_infos(videos, davis=False):
    from mmengine.registry import init_default_scope
    init_default_scope('vcl_mm')
    if davis:
        cfg = dict(
            type='DAVISDataset',
            data_root=videos['root'],
            resolution='',
            test_mode=True)
    else:
        cfg = dict(
            type='YTVISDataset',
            data_root=videos['root'],
            ann_file='ytvis_official.json',
            class_agnostic=True,
            data_prefix=dict(img_path='JPEGImages'),
            test_mode=True)
    ds = DATASETS.build(cfg)
    return [ds.get_data_info(i) for i in range(len(ds))]


def _samples(info, shift=0, junk=0, frames=None):
    """A TrackDataSample per video: ground-truth tracks as predictions
    (shifted by ``shift`` px, score 0.9 - 0.1 k) plus ``junk`` low-score
    tracks covering the top-left corner."""
    imgs = info['images'] if frames is None else info['images'][:frames]
    ids = sorted({i['instance_id'] for im in imgs for i in im['instances']})
    out = []
    for im in imgs:
        h, w = im['height'], im['width']
        masks = np.zeros((len(ids) + junk, h, w), bool)
        for inst in im['instances']:
            m = mask_utils.decode(inst['mask']).astype(bool)
            masks[ids.index(inst['instance_id'])] = np.roll(m, shift, 1)
        masks[len(ids):, :h // 2, :w // 2] = True
        n = len(masks)
        pred = InstanceData(
            masks=torch.from_numpy(masks),
            scores=torch.tensor([.9 - .1 * k
                                 for k in range(len(ids))] + [.01] * junk),
            labels=torch.zeros(n, dtype=torch.long),
            instances_id=torch.arange(n))
        ds = DetDataSample(
            metainfo=dict(
                video_id=info['video_id'],
                img_id=im['img_id'],
                img_path=im['img_path'],
                ori_shape=(h, w),
                ori_video_length=len(info['images']),
                frame_id=im['frame_id'],
                instances=im['instances'],
                seg_map_path=im.get('seg_map_path')))
        ds.pred_track_instances = pred
        out.append(ds)
    sample = TrackDataSample()
    sample.video_data_samples = out
    return sample


def _run(metric, infos, **kw):
    for info in infos:
        metric.process({}, [_samples(info, **kw).to_dict()])
    return metric.evaluate(len(infos))


def test_ytvis_metric_online_equals_offline_round_trip(videos, tmp_path):
    infos = _video_infos(videos)
    prefix = str(tmp_path / 'out' / 'results')
    metric = METRICS.build(
        dict(type='ClassAgnosticYTVISMetric', outfile_prefix=prefix))
    metric.dataset_meta = dict(classes=('object', ))
    online = _run(metric, infos, shift=1, junk=2)
    assert set(online) == {f'youtube_vis/{k}' for k in STAT_NAMES}
    assert 0 < online['youtube_vis/AP'] < 1
    assert osp.isfile(f'{prefix}.submission_file.zip')
    offline = evaluate_ytvis(videos['ytvis_official'], f'{prefix}.json')
    for k in STAT_NAMES:
        assert online[f'youtube_vis/{k}'] == offline[k], k
    results = json.load(open(f'{prefix}.json'))
    assert len(results) == sum(
        len({
            i['instance_id']
            for im in info['images']
            for i in im['instances']
        }) + 2 for info in infos)


def test_ytvis_metric_perfect_and_class_aware(videos):
    infos = _video_infos(videos)
    metric = METRICS.build(dict(type='ClassAgnosticYTVISMetric'))
    metric.dataset_meta = dict(classes=('object', ))
    stats = _run(metric, infos)
    assert stats['youtube_vis/AP'] == pytest.approx(1.0)
    metric = METRICS.build(
        dict(type='ClassAgnosticYTVISMetric', class_agnostic=False))
    metric.dataset_meta = dict(classes=('object', ))
    assert _run(metric, infos)['youtube_vis/AP'] == pytest.approx(1.0)


def test_ytvis_metric_format_only_and_bad_input(videos, tmp_path):
    infos = _video_infos(videos)
    with pytest.raises(InputError, match='outfile_prefix'):
        METRICS.build(dict(type='ClassAgnosticYTVISMetric', format_only=True))
    metric = METRICS.build(
        dict(
            type='ClassAgnosticYTVISMetric',
            format_only=True,
            outfile_prefix=str(tmp_path / 'r')))
    metric.dataset_meta = dict(classes=('object', ))
    assert _run(metric, infos) == {}
    assert osp.isfile(tmp_path / 'r.json')
    # frame-level samples (fewer frames than the video) are refused
    metric = METRICS.build(dict(type='ClassAgnosticYTVISMetric'))
    metric.dataset_meta = dict(classes=('object', ))
    with pytest.raises(InputError, match='whole videos'):
        metric.process({}, [_samples(infos[0], frames=1).to_dict()])


def test_davis_metric_perfect_and_png_round_trip(videos, tmp_path):
    infos = _video_infos(videos, davis=True)
    out_dir = str(tmp_path / 'pngs')
    metric = METRICS.build(dict(type='DAVISMetric', outfile_dir=out_dir))
    stats = _run(metric, infos, junk=3)
    assert set(stats) == {f'davis/{k}' for k in MEASURES}
    assert stats['davis/J&F-Mean'] == 1.0  # junk painted under the tracks
    metric = METRICS.build(dict(type='DAVISMetric', outfile_dir=out_dir))
    online = _run(metric, infos, shift=2, junk=1)
    offline = evaluate_davis_folder(videos['root'], out_dir, resolution='')
    for k in MEASURES:
        assert online[f'davis/{k}'] == offline[k], k
    assert online['davis/J&F-Mean'] < 1
    summary = json.load(open(osp.join(out_dir, 'davis_summary.json')))
    assert summary['J&F-Mean'] == online['davis/J&F-Mean']


def test_davis_metric_keeps_20_best_and_needs_gt_paths(videos):
    infos = _video_infos(videos, davis=True)
    metric = METRICS.build(dict(type='DAVISMetric'))
    # 25 junk tracks: only the 20 best tracks are painted, no error
    stats = _run(metric, infos, junk=25)
    assert stats['davis/J&F-Mean'] == 1.0
    sample = _samples(infos[0])
    for ds in sample.video_data_samples:
        ds.set_metainfo(dict(seg_map_path=None))
    with pytest.raises(InputError, match='seg_map_path'):
        METRICS.build(dict(type='DAVISMetric')).process({}, [sample.to_dict()])
