"""Self-training's quality filter and pseudo-label JSON on constructed
tracks (vcl_mm.apis.pseudo_labels)."""
import json

import numpy as np
import pytest

from vcl_mm.apis.pseudo_labels import (FILTER_KEYS, TrackStats,
                                       build_pseudo_json, select_tracks)
from vcl_mm.datasets.api_wrappers.masks import decode
from vcl_mm.utils import InputError

H, W, T = 24, 32, 4
LOOSE = dict(score_thr=0., min_area=1, min_frames=1, min_temporal_iou=0.,
             max_overlap=1., max_tracks=100)


def box(y, x, h=6, w=6):
    m = np.zeros((H, W), bool)
    m[y:y + h, x:x + w] = True
    return m


def measure(tracks, min_area=1):
    """TrackStats of tracks given as (K, T, H, W) bool."""
    tracks = np.asarray(tracks, bool)
    stats = TrackStats(len(tracks), min_area)
    for t in range(tracks.shape[1]):
        stats.put(tracks[:, t])
    return stats


def still():
    """A track that does not move: temporal IoU 1."""
    return [box(2, 2)] * T


def jumping():
    """A track at a different place every frame: temporal IoU 0."""
    return [box(2 + 4 * (t % 2), 10 + 6 * t) for t in range(T)]


def test_stats_of_known_tracks():
    tiny = [box(15, 15, 2, 2)] * T  # 4 px
    partial = [box(10, 20), None, None, box(10, 20)]
    partial = [m if m is not None else np.zeros((H, W), bool)
               for m in partial]
    half = [box(2, 5)] * T  # overlaps still() by 3 of 9 columns
    stats = measure([still(), jumping(), tiny, partial, half], min_area=5)
    assert stats.frames_present().tolist() == [4, 4, 0, 2, 4]
    iou = stats.temporal_iou()
    assert iou[0] == 1 and iou[1] == 0 and iou[4] == 1
    assert iou[3] == 0  # present twice, never in consecutive frames
    assert iou[2] == 0  # below min_area: absent everywhere
    assert stats.rles[2] == [None] * T
    assert stats.rles[3][1] is None and stats.rles[3][0] is not None
    ov = stats.overlap()
    assert ov[0, 4] == pytest.approx(18 / 54)  # 3 cols x 6 rows of 6x9
    assert ov[0, 1] == 0 and ov[4, 0] == ov[0, 4]
    assert np.array_equal(decode(stats.rles[0][2]), box(2, 2))


def test_filter_rules_and_order():
    stats = measure([still(), jumping(), still(), [box(12, 20)] * T,
                     [box(14, 0)] * T])
    scores = [0.9, 0.95, 0.8, 0.7, 0.3]
    cfg = dict(LOOSE, score_thr=0.5, min_temporal_iou=0.5, max_overlap=0.5)
    kept, dropped = select_tracks(scores, stats, cfg)
    # 1 jumps, 2 duplicates 0, 4 scores too low; best score first
    assert kept == [0, 3]
    assert dropped == dict(temporal_iou=1, overlap=1, score=1)
    kept, dropped = select_tracks(scores, stats, dict(cfg, max_tracks=1))
    assert kept == [0] and dropped['max_tracks'] == 1
    kept, _ = select_tracks(scores, stats, dict(cfg, min_frames=5))
    assert kept == []
    kept, _ = select_tracks(scores, stats, LOOSE)
    assert kept == [1, 0, 2, 3, 4]


def test_filter_names_bad_settings():
    stats = measure([still()])
    with pytest.raises(InputError, match='score_tresh'):
        select_tracks([1.], stats, dict(LOOSE, score_tresh=0.1))
    partial = {k: LOOSE[k] for k in FILTER_KEYS if k != 'max_tracks'}
    with pytest.raises(InputError, match='max_tracks'):
        select_tracks([1.], stats, partial)


def test_pseudo_json_is_youtube_vis_that_the_dataset_reads(tmp_path):
    from vcl_mm.datasets import YTVISDataset
    from vcl_mm.datasets.api_wrappers.ytvis_api import CheckedYTVIS
    empty = np.zeros((H, W), bool)
    stats = measure([still(), [box(10, 20), empty, box(11, 20), empty]])
    videos = [
        dict(name='a', file_names=[f'a/{t:05d}.jpg' for t in range(T)],
             height=H, width=W,
             tracks=[dict(score=0.9, rles=stats.rles[0]),
                     dict(score=0.6, rles=stats.rles[1])]),
        dict(name='no_tracks', file_names=['n/0.jpg', 'n/1.jpg'], height=H,
             width=W, tracks=[]),
    ]
    data = build_pseudo_json(videos, info=dict(round=1))
    assert [v['name'] for v in data['videos']] == ['a']
    ann = data['annotations'][1]
    assert ann['areas'] == [36., None, 36., None]
    assert ann['bboxes'][2] == [20., 11., 6., 6.]
    assert ann['score'] == 0.6 and ann['category_id'] == 1
    path = tmp_path / 'pseudo.json'
    path.write_text(json.dumps(data))
    CheckedYTVIS(str(path))  # the checked loader accepts it
    ds = YTVISDataset(ann_file=str(path), data_prefix=dict(img_path=''),
                      class_agnostic=True, lazy_init=True)
    videos = ds.load_data_list()
    frames = videos[0]['images']
    assert len(videos) == 1 and len(frames) == T
    assert [len(f['instances']) for f in frames] == [2, 1, 2, 1]
    assert frames[1]['instances'][0]['instance_id'] == 1
    assert frames[2]['instances'][1]['bbox'] == [20., 11., 26., 17.]
